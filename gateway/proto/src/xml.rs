//! The hardened XML reader of the vendor translators (SOAP envelopes, OzML): a DOCTYPE is
//! refused (so no entity can be declared, let alone expanded), only the five predefined
//! entities and character references are decoded, processing instructions are refused,
//! nesting depth and element count are capped (the body size is capped by the gateway before
//! parsing). Documents become a tree of local names.

use crate::Failure;
use quick_xml::events::{BytesStart, Event};

/// Deepest element nesting accepted (an rpc/encoded call needs 5).
pub const MAX_DEPTH: usize = 32;
/// Most elements accepted in one document.
pub const MAX_ELEMENTS: usize = 10_000;

/// An element: its local name, attributes (local names), children and text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) text: String,
}

impl Node {
    pub(crate) fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == local)
            .map(|(_, v)| v.as_str())
    }

    /// An attribute by name in any case.
    pub(crate) fn attr_ci(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn xml_error(reason: impl Into<String>) -> Failure {
    Failure::bad("xml", reason)
}

fn start_node(e: &BytesStart<'_>) -> Result<Node, Failure> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| xml_error(e.to_string()))?;
        let k = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let v = a
            .unescape_value()
            .map_err(|e| xml_error(e.to_string()))?
            .into_owned();
        attrs.push((k, v));
    }
    Ok(Node {
        name,
        attrs,
        ..Node::default()
    })
}

/// Parse a document into a tree of local names, refusing DTDs and processing instructions
/// (`what` names the documents in the refusal) and capping depth and size.
pub(crate) fn parse_tree(body: &[u8], what: &str) -> Result<Node, Failure> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut count = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| xml_error(format!("{e} at byte {}", reader.buffer_position())))?;
        match ev {
            Event::DocType(_) => {
                return Err(xml_error(format!("DOCTYPE is not allowed in {what}")));
            }
            Event::Start(e) => {
                count += 1;
                if stack.len() > MAX_DEPTH {
                    return Err(xml_error("elements nested too deeply"));
                }
                if count > MAX_ELEMENTS {
                    return Err(xml_error("too many elements"));
                }
                stack.push(start_node(&e)?);
            }
            Event::Empty(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(xml_error("too many elements"));
                }
                let n = start_node(&e)?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(n);
                }
            }
            Event::End(_) => {
                let Some(n) = stack.pop() else {
                    return Err(xml_error("unbalanced end tag"));
                };
                match stack.last_mut() {
                    Some(top) => top.children.push(n),
                    None => return Err(xml_error("unbalanced end tag")),
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(|e| xml_error(e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(&c).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::PI(_) => {
                return Err(xml_error(format!(
                    "processing instructions are not allowed in {what}"
                )));
            }
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if stack.len() != 1 {
        return Err(xml_error("unexpected end of document"));
    }
    stack.pop().ok_or_else(|| xml_error("empty document"))
}
