//! Form bodies as ordered pairs, so repeated fields (checkbox lists) keep every value, which
//! `serde_urlencoded` cannot do.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        FormData(
            text.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (crate::cookies::decode(&k.replace('+', " ")), crate::cookies::decode(&v.replace('+', " ")))
                })
                .collect(),
        )
    }

    /// The first value, trimmed; empty string when absent.
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
    }

    /// The value exactly as typed (passwords).
    pub fn raw(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty()).collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty() && v != "0" && v != "off")
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| (StatusCode::BAD_REQUEST, "无法读取表单").into_response())?;
        Ok(FormData::parse(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_repeated_fields() {
        let f = FormData::parse(b"roles=a&roles=b&name=%E5%BC%A0+%E4%B8%89&x=");
        assert_eq!(f.all("roles"), vec!["a", "b"]);
        assert_eq!(f.get("name"), "张 三");
        assert_eq!(f.get("missing"), "");
        assert!(!f.checked("x"));
    }
}
