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

impl FormData {
    /// A multipart form (one with a file field): text fields as usual, and each file's content
    /// under its field name. Only text files are taken (GeoJSON, CSV): binary uploads have their
    /// own handlers.
    async fn from_multipart<S: Send + Sync>(req: Request, state: &S) -> Result<Self, Response> {
        let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
        let mut mp =
            axum::extract::Multipart::from_request(req, state).await.map_err(|_| bad("无法读取表单".into()))?;
        let mut out = vec![];
        while let Some(field) = mp.next_field().await.map_err(|e| bad(format!("上传中断：{e}")))? {
            let name = field.name().unwrap_or("").to_string();
            let is_file = field.file_name().is_some();
            let bytes = field.bytes().await.map_err(|e| bad(format!("上传中断：{e}")))?;
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                bad(if is_file {
                    "上传的文件不是 UTF-8 文本文件".into()
                } else {
                    "表单内容不是 UTF-8 文本".into()
                })
            })?;
            out.push((name, text));
        }
        Ok(FormData(out))
    }
}

/// Whether a request carries a multipart form (one with a file field).
pub fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if is_multipart(&req) {
            return Self::from_multipart(req, state).await;
        }
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
