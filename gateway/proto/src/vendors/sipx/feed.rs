//! `/my/feed/voicemail/{folder}` (vendor-apis.md 3.4): a mailbox folder as RSS 2.0, as Rome
//! writes it for sipXconfig; each message's link and enclosure download its audio through
//! the user's private URL.

use super::xstream::xml_escape;
use crate::Response;

/// One message of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// Who left it.
    pub from: String,
    pub created_ms: u64,
    pub duration_ms: u64,
}

/// The feed: `label` names the user, `link` is the request's URL, `private_base` the
/// user's private URL prefix (`<root>/private/<key>`).
pub fn render(
    label: &str,
    folder: &str,
    link: &str,
    private_base: &str,
    messages: &[Message],
) -> Response {
    let title_folder = match folder {
        "inbox" => "Inbox".to_string(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"2.0\">\n  <channel>\n",
    );
    s.push_str(&format!(
        "    <title>Voicemail: {}</title>\n    <link>{}</link>\n    <description>Voicemail {} for {}</description>\n",
        xml_escape(label),
        xml_escape(link),
        xml_escape(&title_folder),
        xml_escape(label)
    ));
    for m in messages {
        let url = format!("{private_base}/voicemail/{folder}/{}", m.id);
        let at = chrono::DateTime::from_timestamp_millis(i64::try_from(m.created_ms).unwrap_or(0))
            .unwrap_or_default();
        s.push_str("    <item>\n");
        s.push_str(&format!(
            "      <title>Voice Message {} from {}</title>\n",
            xml_escape(&m.id),
            xml_escape(&m.from)
        ));
        s.push_str(&format!("      <link>{}</link>\n", xml_escape(&url)));
        s.push_str(&format!(
            "      <description>{} seconds received at {} on {}</description>\n",
            m.duration_ms.div_ceil(1000),
            at.format("%H:%M"),
            at.format("%m/%d/%y")
        ));
        s.push_str(&format!(
            "      <enclosure url=\"{}\" type=\"audio/wav\" />\n",
            xml_escape(&url)
        ));
        s.push_str(&format!(
            "      <pubDate>{}</pubDate>\n",
            at.format("%a, %d %b %Y %H:%M:%S GMT")
        ));
        s.push_str(&format!("      <guid>{}</guid>\n", xml_escape(&url)));
        s.push_str(&format!(
            "      <dc:date>{}</dc:date>\n",
            at.format("%Y-%m-%dT%H:%M:%SZ")
        ));
        s.push_str("    </item>\n");
    }
    s.push_str("  </channel>\n</rss>");
    super::render_body("application/rss+xml", s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of sipXconfig's voicemail-feed fixture (19.x enclosure type).
    #[test]
    fn as_the_fixture() {
        let m = Message {
            id: "00000000".into(),
            from: "George".into(),
            created_ms: 1_159_200_000,
            duration_ms: 10_000,
        };
        let r = render(
            "joeuser",
            "inbox",
            "https://example.com:8034/sipxconfig/rest/my/feed/voicemail/inbox",
            "https://example.com:8034/sipxconfig/rest/private/123456",
            &[m],
        );
        assert_eq!(r.headers()["content-type"], "application/rss+xml");
        assert_eq!(
            std::str::from_utf8(r.body()).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"2.0\">\n  <channel>\n    <title>Voicemail: joeuser</title>\n    <link>https://example.com:8034/sipxconfig/rest/my/feed/voicemail/inbox</link>\n    <description>Voicemail Inbox for joeuser</description>\n    <item>\n      <title>Voice Message 00000000 from George</title>\n      <link>https://example.com:8034/sipxconfig/rest/private/123456/voicemail/inbox/00000000</link>\n      <description>10 seconds received at 10:00 on 01/14/70</description>\n      <enclosure url=\"https://example.com:8034/sipxconfig/rest/private/123456/voicemail/inbox/00000000\" type=\"audio/wav\" />\n      <pubDate>Wed, 14 Jan 1970 10:00:00 GMT</pubDate>\n      <guid>https://example.com:8034/sipxconfig/rest/private/123456/voicemail/inbox/00000000</guid>\n      <dc:date>1970-01-14T10:00:00Z</dc:date>\n    </item>\n  </channel>\n</rss>"
        );
    }
}
