//! What to change when TLS refuses a client: the transport says only
//! "transport error", "h2 protocol error" or "operation was canceled", so
//! [`TlsRefusal::classify`] reads the failure together with what the client
//! was given (the URL's scheme, a client certificate or not) and names the
//! fix: an `https://` URL and `--ca`, a client certificate with `--cert`
//! and `--key`, or the CA that signed swarmd's certificate.

use crate::connect::{TlsFiles, CA_ENV, CERT_ENV, KEY_ENV};

/// Why TLS refused a client, by what the client has to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlsRefusal {
    /// A plaintext (`http://`) client against a daemon that speaks TLS.
    #[error(
        "swarmd speaks TLS and this client spoke plaintext: use an https:// coordinator URL and \
         --ca FILE ({CA_ENV}), the CA certificate that signed swarmd's"
    )]
    SpeaksTls,
    /// No client certificate, against a daemon that requires one (mTLS).
    #[error(
        "swarmd requires a client certificate: give --cert FILE --key FILE ({CERT_ENV}, \
         {KEY_ENV}), a certificate signed by the CA swarmd trusts (its --tls-client-ca)"
    )]
    NeedsClientCert,
    /// A client certificate the daemon does not trust.
    #[error(
        "swarmd refused the client certificate: give --cert FILE --key FILE ({CERT_ENV}, \
         {KEY_ENV}) signed by the CA swarmd trusts (its --tls-client-ca)"
    )]
    ClientCertRefused,
    /// swarmd's certificate is not signed by the CA given, or not for the
    /// host in the URL.
    #[error(
        "swarmd's certificate is not trusted: give --ca FILE ({CA_ENV}), the CA certificate that \
         signed swarmd's (its --tls-cert), and a host name the certificate names"
    )]
    ServerNotTrusted,
}

impl TlsRefusal {
    /// The refusal `detail` (a failure's text with its causes) shows, for
    /// a client that used `url` with `tls`; `None` when it is something
    /// else (a refused connection, an answer from swarmd).
    pub fn classify(url: &str, tls: &TlsFiles, detail: &str) -> Option<TlsRefusal> {
        let d = detail.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| d.contains(w));
        // Nobody listening is not a TLS refusal.
        if has(&["connection refused", "tcp connect error", "no such file"]) {
            return None;
        }
        let broken_off = has(&[
            "transport error",
            "h2 protocol error",
            "http2 error",
            "operation was canceled",
            "connection reset",
            "broken pipe",
            "unexpected end of file",
            "fatal alert",
            "certificate required",
        ]);
        if url.starts_with("http://") {
            return (broken_off || has(&["corrupt message"])).then_some(TlsRefusal::SpeaksTls);
        }
        if !url.starts_with("https://") {
            return None;
        }
        if has(&[
            "invalid peer certificate",
            "unknownissuer",
            "badsignature",
            "notvalidforname",
            "certificate is not valid",
        ]) {
            return Some(TlsRefusal::ServerNotTrusted);
        }
        if !broken_off {
            return None;
        }
        Some(if tls.has_identity() {
            TlsRefusal::ClientCertRefused
        } else {
            TlsRefusal::NeedsClientCert
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn given(identity: bool) -> TlsFiles {
        TlsFiles {
            ca: Some(PathBuf::from("ca.pem")),
            cert: identity.then(|| PathBuf::from("admin.pem")),
            key: identity.then(|| PathBuf::from("admin.key")),
        }
    }

    #[test]
    fn each_refusal_names_its_fix() {
        let plain = TlsFiles::default();
        for detail in ["transport error", "h2 protocol error: http2 error"] {
            let r = TlsRefusal::classify("http://127.0.0.1:7420", &plain, detail);
            assert_eq!(r, Some(TlsRefusal::SpeaksTls), "{detail}");
        }
        let https = "https://swarmd:7420";
        let r = TlsRefusal::classify(https, &given(false), "operation was canceled");
        assert_eq!(r, Some(TlsRefusal::NeedsClientCert));
        let r = TlsRefusal::classify(https, &given(true), "operation was canceled");
        assert_eq!(r, Some(TlsRefusal::ClientCertRefused));
        let detail = "transport error: invalid peer certificate: UnknownIssuer";
        let r = TlsRefusal::classify(https, &given(true), detail);
        assert_eq!(r, Some(TlsRefusal::ServerNotTrusted));
        assert!(TlsRefusal::SpeaksTls.to_string().contains("https://"));
        assert!(TlsRefusal::NeedsClientCert
            .to_string()
            .contains("--cert FILE --key FILE"));
        assert!(TlsRefusal::ServerNotTrusted
            .to_string()
            .contains("--ca FILE"));
    }

    #[test]
    fn other_failures_are_not_tls_refusals() {
        let plain = TlsFiles::default();
        let refused = "transport error: tcp connect error: Connection refused (os error 111)";
        assert_eq!(
            TlsRefusal::classify("http://127.0.0.1:7420", &plain, refused),
            None
        );
        assert_eq!(
            TlsRefusal::classify("http://127.0.0.1:7420", &plain, "no plan loaded"),
            None
        );
        assert_eq!(
            TlsRefusal::classify("unix:///run/s.sock", &plain, "broken pipe"),
            None
        );
    }
}
