//! A listener with `tls: {cert, key}` serves HTTPS: curl verifies the certificate and gets the
//! native API; a plain-HTTP request to it gets no answer; the Brekeke WSDL fetched over HTTPS
//! names an `https://` service address, so PHP's SoapClient (which posts to that address) works
//! over TLS unchanged but for the CA it is told to trust.
use patchbay_gateway::TlsConfig;
use patchbay_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_serves_https() {
    let stack = Stack::start().await;
    let dir = std::env::temp_dir().join(format!("patchbay-tls-{}", std::process::id()));
    let (cert, key) = self_signed_cert(&dir).await;
    let tls = TlsConfig {
        cert: cert.to_string_lossy().into(),
        key: key.to_string_lossy().into(),
    };
    let gw = stack.gateway(move |c| c.listeners[0].tls = Some(tls));
    let host = gw.base.trim_start_matches("http://").to_string();
    let https = format!("https://{host}");
    let ca = cert.to_str().unwrap();

    let (code, out, err) = run_tool(
        "curl",
        &[
            "-sS",
            "--cacert",
            ca,
            "-u",
            "demo-key:demo-secret",
            "-w",
            " %{http_code}",
            &format!("{https}/api/v1/me"),
        ],
        20,
    )
    .await;
    assert_eq!(code, 0, "curl over TLS: {err}");
    assert!(
        out.ends_with(" 200") && out.contains(r#""tenant":"demo""#),
        "{out}"
    );
    // Plain HTTP on the TLS port: no HTTP answer.
    let (_, out, _) = run_tool(
        "curl",
        &[
            "-sS",
            "-m",
            "3",
            "-w",
            "%{http_code}",
            &format!("http://{host}/api/v1/me"),
        ],
        20,
    )
    .await;
    assert!(
        out.ends_with("000"),
        "no HTTP reply on the TLS port: {out:?}"
    );

    let (code, wsdl, err) = run_tool(
        "curl",
        &[
            "-sS",
            "--cacert",
            ca,
            &format!("{https}/pbx/services/UserImpl?wsdl"),
        ],
        20,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        wsdl.contains(&format!(r#"location="{https}/pbx/services/UserImpl""#)),
        "{wsdl}"
    );
    let php = php();
    let script = format!(
        r#"$ctx = stream_context_create(["ssl" => ["cafile" => "{ca}"]]); $c = new SoapClient("{https}/pbx/services/UserImpl?wsdl", ["stream_context" => $ctx]); print(implode(",", $c->getUserPropertyNames("4005")));"#
    );
    let (code, out, err) = run_tool(
        &php,
        &["-d", "soap.wsdl_cache_enabled=0", "-r", &script],
        20,
    )
    .await;
    assert_eq!(code, 0, "php over TLS: {out} {err}");
    assert!(out.split(',').any(|p| p == "name"), "{out}");
    gw.stop().await;
    stack.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
