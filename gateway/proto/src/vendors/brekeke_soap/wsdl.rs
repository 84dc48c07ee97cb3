//! The `UserImpl` service's description: its WSDL (document for Axis 1.x clients: SoapClient,
//! zeep) and the service page Axis shows for a GET without `?wsdl`.

use super::{XML, esc};
use crate::{Response, response};
use std::fmt::Write as _;

/// Parameter and return types of the WSDL's operations.
#[derive(Clone, Copy)]
enum T {
    S,
    A,
}

/// `(name, parameters, return)`; the `_mt` twins take a tenant first. The two `createUser`
/// overloads come in this order on purpose: python zeep keeps the last operation of a name,
/// PHP SoapClient the first, and the server tells them apart by argument count.
const OPS: &[(&str, &[T], Option<T>)] = &[
    ("getUserPropertyNames", &[T::S], Some(T::A)),
    ("getUserProperties", &[T::S, T::A], Some(T::A)),
    ("setUserProperties", &[T::S, T::A, T::A], None),
    ("getUserProperty", &[T::S, T::S], Some(T::S)),
    ("setUserProperty", &[T::S, T::S, T::S], None),
    ("createUser", &[T::S], None),
    ("createUser", &[T::S, T::S], None),
    ("deleteUser", &[T::S], None),
    ("callControl", &[T::S, T::S, T::A, T::S], Some(T::S)),
];

fn type_name(t: T) -> &'static str {
    match t {
        T::S => "xsd:string",
        T::A => "impl:ArrayOf_xsd_string",
    }
}

/// All operations: `(name, message suffix, params, return)`, overloads numbered as Axis does.
fn operations() -> Vec<(String, String, Vec<T>, Option<T>)> {
    let mut v: Vec<(String, String, Vec<T>, Option<T>)> = Vec::new();
    let mut push = |name: String, params: Vec<T>, ret: Option<T>| {
        let n = v.iter().filter(|o| o.0 == name).count();
        let suffix = if n == 0 { String::new() } else { n.to_string() };
        v.push((name, suffix, params, ret));
    };
    for (name, params, ret) in OPS {
        push(name.to_string(), params.to_vec(), *ret);
    }
    for (name, params, ret) in OPS {
        let mut p = vec![T::S];
        p.extend_from_slice(params);
        push(format!("{name}_mt"), p, *ret);
    }
    push("createTenant_mt".into(), vec![T::S], None);
    v
}

/// `GET /pbx/services/UserImpl?wsdl`: the Axis 1.x rpc/encoded description; `ns` is the
/// service URL as the client reached it (Axis derives targetNamespace and address from it).
pub fn render_wsdl(ns: &str) -> Response {
    let ns = esc(ns);
    let mut b = String::with_capacity(32 * 1024);
    let _ = write!(
        b,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions targetNamespace="{ns}" xmlns:apachesoap="http://xml.apache.org/xml-soap" xmlns:impl="{ns}" xmlns:intf="{ns}" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:wsdlsoap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
<!--WSDL created by Apache Axis version: 1.4 (Patchbay compatible)-->
 <wsdl:types>
  <schema targetNamespace="{ns}" xmlns="http://www.w3.org/2001/XMLSchema">
   <import namespace="http://schemas.xmlsoap.org/soap/encoding/"/>
   <complexType name="ArrayOf_xsd_string">
    <complexContent>
     <restriction base="soapenc:Array">
      <attribute ref="soapenc:arrayType" wsdl:arrayType="xsd:string[]"/>
     </restriction>
    </complexContent>
   </complexType>
  </schema>
 </wsdl:types>
"#
    );
    let ops = operations();
    for (name, sfx, params, ret) in &ops {
        let _ = writeln!(b, r#"   <wsdl:message name="{name}Request{sfx}">"#);
        for (i, t) in params.iter().enumerate() {
            let _ = writeln!(
                b,
                r#"      <wsdl:part name="in{i}" type="{}"/>"#,
                type_name(*t)
            );
        }
        let _ = writeln!(b, "   </wsdl:message>");
        let _ = writeln!(b, r#"   <wsdl:message name="{name}Response{sfx}">"#);
        if let Some(t) = ret {
            let _ = writeln!(
                b,
                r#"      <wsdl:part name="{name}Return" type="{}"/>"#,
                type_name(*t)
            );
        }
        let _ = writeln!(b, "   </wsdl:message>");
    }
    b.push_str("   <wsdl:portType name=\"UserImpl\">\n");
    for (name, sfx, params, _) in &ops {
        let order: Vec<String> = (0..params.len()).map(|i| format!("in{i}")).collect();
        let _ = write!(
            b,
            r#"      <wsdl:operation name="{name}" parameterOrder="{}">
         <wsdl:input message="impl:{name}Request{sfx}" name="{name}Request{sfx}"/>
         <wsdl:output message="impl:{name}Response{sfx}" name="{name}Response{sfx}"/>
      </wsdl:operation>
"#,
            order.join(" ")
        );
    }
    b.push_str("   </wsdl:portType>\n");
    b.push_str(
        "   <wsdl:binding name=\"UserImplSoapBinding\" type=\"impl:UserImpl\">\n      \
         <wsdlsoap:binding style=\"rpc\" transport=\"http://schemas.xmlsoap.org/soap/http\"/>\n",
    );
    for (name, sfx, _, _) in &ops {
        let _ = write!(
            b,
            r#"      <wsdl:operation name="{name}">
         <wsdlsoap:operation soapAction=""/>
         <wsdl:input name="{name}Request{sfx}">
            <wsdlsoap:body encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" namespace="{ns}" use="encoded"/>
         </wsdl:input>
         <wsdl:output name="{name}Response{sfx}">
            <wsdlsoap:body encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" namespace="{ns}" use="encoded"/>
         </wsdl:output>
      </wsdl:operation>
"#
        );
    }
    let _ = write!(
        b,
        r#"   </wsdl:binding>
   <wsdl:service name="UserImplService">
      <wsdl:port binding="impl:UserImplSoapBinding" name="UserImpl">
         <wsdlsoap:address location="{ns}"/>
      </wsdl:port>
   </wsdl:service>
</wsdl:definitions>
"#
    );
    response(200, &[("content-type", XML)], b)
}

/// `GET /pbx/services/UserImpl` without `?wsdl`: Axis' service page.
pub fn render_service_page() -> Response {
    response(
        200,
        &[("content-type", "text/html; charset=utf-8")],
        "<h1>UserImpl</h1>\n<p>Hi there, this is an AXIS service!</p>\n\
         <i>Perhaps there will be a form for invoking the service here...</i>\n",
    )
}
