//! The subject of a client certificate (DER), as the actor of what its
//! holder does under mutual TLS: `CN=swarmctl admin`, or every attribute
//! in the certificate's order (`O=Acme, CN=ann`). The handshake has
//! already verified the certificate; this only reads its subject, so a
//! certificate it cannot read gives `None` (and the token's name is used).

/// How deep a certificate's structure is read before the subject.
const TBS_FIELDS_BEFORE_SUBJECT: usize = 5;

/// One DER element: its tag, its contents, and what follows it.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The elements of a constructed element's contents, in order.
fn children(mut contents: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tag, inner, rest) = element(contents)?;
        out.push((tag, inner));
        contents = rest;
    }
    Some(out)
}

/// The subject of the DER certificate `der`, as `TYPE=value` pairs joined
/// with `, `; `None` when it cannot be read or is empty.
pub fn subject(der: &[u8]) -> Option<String> {
    const SEQUENCE: u8 = 0x30;
    let (tag, cert, _) = element(der)?;
    let (tbs_tag, tbs) = *children(cert)?.first()?;
    if tag != SEQUENCE || tbs_tag != SEQUENCE {
        return None;
    }
    let fields = children(tbs)?;
    // [0] version is optional: with it, the subject is the sixth field.
    let skip = usize::from(fields.first()?.0 == 0xa0);
    let (name_tag, name) = *fields.get(skip + TBS_FIELDS_BEFORE_SUBJECT - 1)?;
    if name_tag != SEQUENCE {
        return None;
    }
    let mut parts = Vec::new();
    for (_, rdn) in children(name)? {
        for (_, pair) in children(rdn)? {
            let pair = children(pair)?;
            let [(0x06, oid), (kind, value)] = pair.as_slice() else {
                return None;
            };
            parts.push(format!("{}={}", attribute(oid), text(*kind, value)));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The short name of an attribute type, else its dotted OID.
fn attribute(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "E".into(),
        _ => dotted(oid),
    }
}

fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut n: u64 = 0;
    for &b in oid {
        n = (n << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (n / 40).min(2);
                arcs.extend([first, n - first * 40]);
            } else {
                arcs.push(n);
            }
            n = 0;
        }
    }
    let arcs: Vec<String> = arcs.iter().map(u64::to_string).collect();
    arcs.join(".")
}

/// An attribute's value as text: the string types as they are (BMP
/// strings decoded), anything else as `#` and hex.
fn text(kind: u8, value: &[u8]) -> String {
    match kind {
        0x0c | 0x13 | 0x14 | 0x16 => String::from_utf8_lossy(value).into_owned(),
        0x1e => {
            let units: Vec<u16> = value
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => {
            let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
            format!("#{hex}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    fn cert(dn: &[(DnType, &str)]) -> Vec<u8> {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(Vec::new()).expect("params");
        let mut name = DistinguishedName::new();
        for (t, v) in dn {
            name.push(t.clone(), *v);
        }
        p.distinguished_name = name;
        p.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn the_subject_of_a_certificate_is_read() {
        let der = cert(&[(DnType::CommonName, "swarmctl admin")]);
        assert_eq!(subject(&der).as_deref(), Some("CN=swarmctl admin"));
        let der = cert(&[
            (DnType::OrganizationName, "Acme"),
            (DnType::CommonName, "ann"),
        ]);
        assert_eq!(subject(&der).as_deref(), Some("O=Acme, CN=ann"));
    }

    #[test]
    fn what_is_not_a_certificate_has_no_subject() {
        assert_eq!(subject(b""), None);
        assert_eq!(subject(&[0x30, 0x82, 0xff]), None);
        let der = cert(&[(DnType::CommonName, "x")]);
        assert_eq!(subject(&der[..der.len() / 2]), None);
        assert_eq!(dotted(&[0x2b, 0x06, 0x01]), "1.3.6.1");
    }
}
