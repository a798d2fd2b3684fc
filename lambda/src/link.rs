//! Approval links: `{page URL}?id={id}&exp={expires_at}&mac={mac}`. The id is opaque (16 random bytes), the
//! expiry is unix seconds, and the MAC is KMS's HMAC-SHA-256 of [`mac_message`] under the module's HMAC key,
//! so that a link cannot be made up, moved to another id or given a later expiry. The task token is in no
//! link: it stays in the approvals table under the id.
//!
//! Also the form and query-string decoding the page needs (`application/x-www-form-urlencoded`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the MAC's message starts with: the link format's version, so that a MAC of another message under the
/// same key can never pass for a link's.
pub const MAC_CONTEXT: &str = "sfngen-approval-v1";
/// An approval id's random bytes: 128 bits, beyond guessing.
pub const ID_BYTES: usize = 16;
/// An approval id's characters: 16 bytes in base64url without padding.
pub const ID_CHARS: usize = 22;
/// An HMAC-SHA-256 has 32 bytes.
pub const MAC_BYTES: usize = 32;
/// The most digits an expiry has (unix seconds up to the year 33658).
pub const MAX_EXPIRY_DIGITS: usize = 12;
/// The longest query string read (a link's is about 100 characters; mail clients may add tracking
/// parameters).
pub const MAX_QUERY_CHARS: usize = 2048;

/// base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new approval id: [`ID_BYTES`] from the operating system's generator, base64url without padding.
pub fn new_id() -> Result<String, String> {
    let mut bytes = [0_u8; ID_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("the operating system gave no random bytes: {e}"))?;
    Ok(encode(&bytes))
}

/// What the link's MAC is computed over: `sfngen-approval-v1\n{id}\n{expires_at}`.
pub fn mac_message(id: &str, expires_at: i64) -> String {
    format!("{MAC_CONTEXT}\n{id}\n{expires_at}")
}

/// The link: the page URL with the id, the expiry and the MAC (base64url) as its query.
pub fn url(page_url: &str, id: &str, expires_at: i64, mac: &[u8]) -> String {
    format!("{page_url}?id={id}&exp={expires_at}&mac={}", encode(mac))
}

/// Whether a page URL can take the link's query: an http(s) URL without a query or fragment of its own.
pub fn page_url_problem(url: &str) -> Option<&'static str> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Some("it must be an https:// URL (the page function's URL)");
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it must be a URL without a query, a fragment or spaces");
    }
    None
}

/// A link's parts, read from a query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The approval id.
    pub id: String,
    /// When it expires, unix seconds.
    pub expires_at: i64,
    /// The MAC's bytes.
    pub mac: Vec<u8>,
}

/// Reads a link's query string: `id`, `exp` and `mac` once each, in any order; other parameters (a mail
/// client's tracking) are ignored. `Err` says what is wrong, without repeating the values.
pub fn parse_link(query: &str) -> Result<Link, String> {
    if query.len() > MAX_QUERY_CHARS {
        return Err("the link's query is too long".into());
    }
    let pairs = decode_form(query)?;
    let one = |name: &str| -> Result<String, String> {
        let mut values = pairs.iter().filter(|(k, _)| k == name);
        match (values.next(), values.next()) {
            (Some((_, v)), None) => Ok(v.clone()),
            (None, _) => Err(format!("the link has no {name}")),
            (Some(_), Some(_)) => Err(format!("the link gives {name} twice")),
        }
    };
    let id = one("id")?;
    if id.len() != ID_CHARS || URL_SAFE_NO_PAD.decode(&id).map(|b| b.len()) != Ok(ID_BYTES) {
        return Err("the link's id is not an approval id".into());
    }
    let exp = one("exp")?;
    if exp.is_empty() || exp.len() > MAX_EXPIRY_DIGITS || !exp.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the link's exp is not a time".into());
    }
    let expires_at = exp
        .parse::<i64>()
        .map_err(|_| "the link's exp is not a time".to_string())?;
    let mac = URL_SAFE_NO_PAD
        .decode(one("mac")?)
        .ok()
        .filter(|m| m.len() == MAC_BYTES)
        .ok_or_else(|| "the link's mac is not an HMAC-SHA-256".to_string())?;
    Ok(Link { id, expires_at, mac })
}

/// Decodes `application/x-www-form-urlencoded` text (a form body or a query string): `&`-separated
/// `name=value` pairs, `+` a space, `%XX` a byte, the bytes UTF-8. A pair without `=` has an empty value;
/// empty pairs are skipped.
pub fn decode_form(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(name)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = text
                    .get(i + 1..i + 3)
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or_else(|| "a % in the form is not followed by two hex digits".to_string())?;
                out.push(byte);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "the form's text is not UTF-8".to_string())
}

/// Unix seconds as RFC 3339 in UTC (`2026-12-03T12:00:00Z`).
pub fn rfc3339(seconds: i64) -> String {
    aws_sdk_dynamodb::primitives::DateTime::from_secs(seconds)
        .fmt(aws_sdk_dynamodb::primitives::DateTimeFormat::DateTime)
        .unwrap_or_else(|_| seconds.to_string())
}

/// The current time, unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AAECAwQFBgcICQoLDA0ODw";

    fn mac() -> Vec<u8> {
        (0..32).collect()
    }

    #[test]
    fn ids_are_22_characters_of_16_random_bytes() {
        let a = new_id().unwrap();
        let b = new_id().unwrap();
        assert_eq!(a.len(), ID_CHARS);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), ID_BYTES);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(encode(&(0..16).collect::<Vec<u8>>()), ID);
    }

    #[test]
    fn the_mac_message_binds_id_and_expiry() {
        assert_eq!(
            mac_message(ID, 1_796_299_200),
            format!("sfngen-approval-v1\n{ID}\n1796299200")
        );
    }

    #[test]
    fn a_link_reads_back() {
        let link = url("https://abc.lambda-url.us-east-1.on.aws/", ID, 1_796_299_200, &mac());
        assert_eq!(
            link,
            format!(
                "https://abc.lambda-url.us-east-1.on.aws/?id={ID}&exp=1796299200&mac={}",
                encode(&mac())
            )
        );
        let query = link.split_once('?').unwrap().1;
        assert_eq!(
            parse_link(query),
            Ok(Link {
                id: ID.into(),
                expires_at: 1_796_299_200,
                mac: mac()
            })
        );
        // Any order; other parameters ignored.
        let shuffled = format!("utm_source=mail&mac={}&exp=1796299200&id={ID}", encode(&mac()));
        assert!(parse_link(&shuffled).is_ok());
    }

    #[test]
    fn a_tampered_or_cut_link_is_malformed() {
        let good = |id: &str, exp: &str, mac: &str| format!("id={id}&exp={exp}&mac={mac}");
        let m = encode(&mac());
        for (query, why) in [
            (String::new(), "has no id"),
            (good(&ID[..21], "1", &m), "not an approval id"),
            (good(&format!("{ID}A"), "1", &m), "not an approval id"),
            (good("AAECAwQFBgcICQoLDA0OD!", "1", &m), "not an approval id"),
            (good(ID, "", &m), "exp is not a time"),
            (good(ID, "-5", &m), "exp is not a time"),
            (good(ID, "1e9", &m), "exp is not a time"),
            (good(ID, "1234567890123", &m), "exp is not a time"),
            (good(ID, "1", &m[..42]), "mac is not"),
            (good(ID, "1", &format!("{m}AA")), "mac is not"),
            (format!("{}&id={ID}", good(ID, "1", &m)), "gives id twice"),
            (format!("id={ID}&exp=1"), "has no mac"),
            ("id=%zz".into(), "two hex digits"),
            ("x".repeat(MAX_QUERY_CHARS + 1), "too long"),
        ] {
            let problem = parse_link(&query).unwrap_err();
            assert!(problem.contains(why), "{query}: {problem}");
            // The problem never repeats the MAC.
            assert!(!problem.contains(&m[..20]), "{problem}");
        }
    }

    #[test]
    fn forms_decode() {
        assert_eq!(
            decode_form("decision=approve&comment=Looks+good%21+%C3%A9%26x%3D1").unwrap(),
            vec![
                ("decision".into(), "approve".into()),
                ("comment".into(), "Looks good! é&x=1".into())
            ]
        );
        assert_eq!(
            decode_form("a&&b=").unwrap(),
            vec![("a".into(), String::new()), ("b".into(), String::new())]
        );
        assert!(decode_form("a=%ff").unwrap_err().contains("not UTF-8"));
        assert!(decode_form("a=%4").is_err());
        assert!(decode_form("a=%").is_err());
        assert_eq!(decode_form("").unwrap(), vec![]);
    }

    #[test]
    fn page_urls() {
        assert_eq!(page_url_problem("https://abc.lambda-url.us-east-1.on.aws/"), None);
        assert_eq!(page_url_problem("http://127.0.0.1:8080/"), None);
        assert!(page_url_problem("ftp://x/").is_some());
        assert!(page_url_problem("https://x/?a=1").is_some());
        assert!(page_url_problem("https://x/#f").is_some());
        assert!(page_url_problem("").is_some());
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_796_299_200), "2026-12-03T12:00:00Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
