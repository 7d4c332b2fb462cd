use super::*;

fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |v: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == v)
            .map(|(_, x)| x.to_string())
    }
}

#[test]
fn the_traces_variables_win_and_empty_ones_are_unset() {
    let files = Files::from_env(env(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces/ca.pem"),
        ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", " "),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/generic/client.key"),
    ]));
    let ca = files.ca.expect("a CA");
    assert_eq!(ca.var, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE");
    assert_eq!(ca.path, PathBuf::from("/traces/ca.pem"));
    let key = files.client_key.expect("a key");
    assert_eq!(key.var, "OTEL_EXPORTER_OTLP_CLIENT_KEY");
    assert_eq!(files.client_cert, None);
}

#[test]
fn a_missing_ca_file_is_named_with_its_variable() {
    let files = Files::from_env(env(&[(
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "/nowhere/ca.pem",
    )]));
    let msg = files
        .rustls()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.contains("/nowhere/ca.pem") && msg.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        "{msg}"
    );
    assert!(files.tonic().is_err());
}

#[test]
fn a_file_without_certificates_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate\n").expect("write");
    let files = Files {
        ca: Some(Named {
            var: "OTEL_EXPORTER_OTLP_CERTIFICATE",
            path: path.clone(),
        }),
        client_cert: None,
        client_key: None,
    };
    let msg = files
        .tonic()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("no CERTIFICATE"),
        "{msg}"
    );
}

#[test]
fn a_client_certificate_without_its_key_is_refused() {
    let files = Files::from_env(env(&[(
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "/c/client.pem",
    )]));
    let msg = files
        .identity()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.contains("only OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE is set"),
        "{msg}"
    );
}
