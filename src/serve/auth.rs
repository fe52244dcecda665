//! The bearer token and the security headers of every response.
//!
//! With a token (`--token` or `XOS_TOKEN`, required off loopback), every
//! request — pages, API, assets, events — must carry `Authorization: Bearer
//! TOKEN` or the `xos_token` cookie. A page opened as `…?token=TOKEN` sets
//! that cookie (HttpOnly, SameSite=Strict) and redirects to the same URL
//! without the token, so the token does not stay in the address bar or in
//! the history. Anything else gets 401.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::AppState;

/// The Content-Security-Policy of every response: nothing from elsewhere,
/// scripts only from this server's own files (never inline), no framing.
/// Styles may be inline because the memo carries its CSS inside the page (a
/// style cannot run code); the SVG charts are inline elements.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The cookie that carries the token for pages.
pub const COOKIE: &str = "xos_token";

/// A bearer token a client must present (`--token`, `XOS_TOKEN`): one or
/// more visible ASCII characters other than `;`, `,`, `"` and `\` — no
/// space, no control character, nothing beyond ASCII. It travels in the
/// `Authorization` header and in the `xos_token` cookie, and these are the
/// characters both carry unchanged (RFC 6265's cookie octets); any other
/// token would be accepted at startup and then never match.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Checks `text` as a token; the error says which character is not allowed, without
    /// repeating the token.
    pub fn new(text: &str) -> Result<Token, String> {
        if text.is_empty() {
            return Err("the token is empty".to_string());
        }
        if let Some((at, c)) = text
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_graphic() || matches!(c, ';' | ',' | '"' | '\\'))
        {
            let what = if c.is_whitespace() {
                "a space".to_string()
            } else if c.is_control() {
                "a control character".to_string()
            } else if c.is_ascii() {
                format!("`{c}`")
            } else {
                "a character beyond ASCII".to_string()
            };
            return Err(format!(
                "character {} of the token is {what}: a token may hold only visible ASCII \
                 characters other than `;`, `,`, `\"` and `\\` (it is sent in a header and a cookie)",
                at + 1
            ));
        }
        Ok(Token(text.to_string()))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never prints the secret.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// Rejects requests without the token (when one is set).
pub async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(token) = state.options.token.as_ref().map(Token::as_str) else {
        return next.run(request).await;
    };
    // CORS preflights carry no credentials by design; the CORS layer
    // answers them before this guard, and anything else is checked.
    if presented(&request).is_some_and(|t| same(t.as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    if let Some(given) = query_token(request.uri().query())
        && same(given.as_bytes(), token.as_bytes())
        && !path.starts_with("/api/")
    {
        let rest = without_token(request.uri().query());
        let path = same_origin(&path);
        let location = if rest.is_empty() {
            path
        } else {
            format!("{path}?{rest}")
        };
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        let mut response = (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, location.as_str())],
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    unauthorized(&path)
}

/// `path` as a redirect target that stays on this server: a target that
/// starts with `//` or `/\` is another host to a browser (`//evil.com/`
/// is `http://evil.com/`), so the leading slashes and backslashes become
/// one `/`.
fn same_origin(path: &str) -> String {
    format!("/{}", path.trim_start_matches(['/', '\\']))
}

/// The 401 answer, in the shape of the part of the server asked.
fn unauthorized(path: &str) -> Response {
    let message = "this server requires a token: send `Authorization: Bearer TOKEN` \
                   (pages: open them once with `?token=TOKEN`)";
    let mut response = if path.starts_with("/api/v1/") {
        super::api::error(StatusCode::UNAUTHORIZED, message)
    } else if path.starts_with("/api/") {
        super::compat::detail(StatusCode::UNAUTHORIZED, message)
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            message,
        )
            .into_response()
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"xos\""),
    );
    response
}

/// The token the request presents: the bearer header, else the cookie.
fn presented(request: &Request) -> Option<&str> {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
    {
        return Some(bearer);
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The credentials of an `Authorization` value of the `Bearer` scheme,
/// whose name is case-insensitive (RFC 7235 §2.1: `bearer`, `BEARER`).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| percent_decode(value))
}

fn without_token(query: Option<&str>) -> String {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("token="))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes `%XX` escapes and `+` (form encoding); invalid escapes stay as
/// written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Adds the security headers to every response.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%2F"), "/");
    }

    #[test]
    fn token_comparison() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
    }

    #[test]
    fn tokens_are_visible_ascii_without_cookie_delimiters() {
        assert!(Token::new("s3cret-._~+/=").is_ok());
        for bad in ["", " ", "a b", "a;b=c", "a,b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(Token::new(bad).is_err(), "{bad:?}");
        }
        let err = Token::new("xyzé").unwrap_err();
        assert!(err.contains("character 4") && !err.contains("xyz"), "{err}");
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }

    #[test]
    fn redirects_stay_on_this_server() {
        assert_eq!(same_origin("/"), "/");
        assert_eq!(same_origin("/experiments/x"), "/experiments/x");
        assert_eq!(same_origin("//evil.com/"), "/evil.com/");
        assert_eq!(same_origin("/\\evil.com"), "/evil.com");
        assert_eq!(same_origin("/\\/\\/evil.com"), "/evil.com");
    }

    #[test]
    fn query_token_is_removed_from_the_redirect() {
        assert_eq!(without_token(Some("token=x&a=1")), "a=1");
        assert_eq!(query_token(Some("a=1&token=s%3Dx")), Some("s=x".into()));
    }
}
