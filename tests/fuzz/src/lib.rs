//! Shared by the fuzz targets: fuzz bytes as the parts of an HTTP request.

use patchbay_gateway_proto::Request;

/// A request as the gateway's parsers receive it; `None` when `uri` is no URI at all (that
/// is the HTTP server's parser's job, not ours).
pub fn request(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<Request> {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(bytes::Bytes::copy_from_slice(body)).ok()
}

/// `data` split at the first 0 byte: (before, after).
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Bytes as text the way a server reads a header or query (lossy UTF-8).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
