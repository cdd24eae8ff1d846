//! Issued documents (公文): the sheet laid out after GB/T 9704—2012 (版头 with 发文机关 and
//! 发文字号, 标题, 主送, 正文, 落款 with the seal, 成文日期) with its verification QR code;
//! public verification of a QR payload (文书核验); the departments' public keys for verifying
//! offline.

use crate::access::{Access, RequestCtx, Routes};
use crate::error::{AppError, PageResult};
use crate::layout::Layout;
use crate::pages::render;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use store::documents::{Issued, Verdict};

pub fn routes() -> Routes {
    Routes::default()
        .add("/documents/verify", Access::Public, get(verify))
        .add("/documents/keys", Access::Public, get(keys))
        .add("/documents/keys/{department}", Access::Public, get(key_file))
}

/// Percent-encodes a query value (everything but unreserved ASCII).
pub(crate) fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "documents/sheet.html")]
struct SheetPage {
    layout: Layout,
    d: domain::documents::Document,
    date: String,
    seal_image: String,
    qr: String,
    verify_link: String,
    pdf_link: String,
    back: String,
    back_label: &'static str,
}

/// The printable sheet of an issued document; `pdf_link` downloads the same as an A4 PDF.
pub(crate) fn sheet(
    ctx: &RequestCtx,
    i: Issued,
    nav: &str,
    back: &str,
    back_label: &'static str,
    pdf_link: &str,
) -> PageResult {
    let title = format!("{}（{}）", i.document.title, i.document.number);
    render(SheetPage {
        layout: Layout::new(ctx, &ctx.state.config().city.name, &title, nav),
        date: domain::text::date_cn(i.document.issued_on),
        seal_image: i.seal.map(|s| s.image).unwrap_or_default(),
        qr: crate::qr::svg(&i.payload, 132, "文书核验二维码").unwrap_or_default(),
        verify_link: format!("/documents/verify?p={}", query_value(&i.payload)),
        pdf_link: pdf_link.to_string(),
        d: i.document,
        back: back.to_string(),
        back_label,
    })
}

/// The note printed beside a document's QR code.
pub(crate) const VERIFY_NOTE: &str = "扫描二维码得到核验码，可在本平台“文书核验”页面在线核验，也可用出具部门的印章公钥离线核验（见“印章公钥与离线核验”页面）。";

/// An issued document as an A4 PDF (GB/T 9704 layout), sealed, with its QR code.
pub(crate) fn pdf(ctx: &RequestCtx, i: &Issued) -> PageResult {
    let d = &i.document;
    let fonts = crate::pdf::fonts(&ctx.state.config()).map_err(AppError::Unavailable)?;
    let date = domain::text::date_cn(d.issued_on);
    let bytes = crate::pdf::render(
        &fonts,
        &crate::pdf::Sheet {
            head: Some((&d.issuer, &d.number)),
            title: &d.title,
            addressee: Some(&d.addressee),
            paragraphs: &d.paragraphs,
            rows: &[],
            signer: &d.issuer,
            date: &date,
            seal: i.seal.as_ref().map(|_| d.issuer.as_str()),
            payload: &i.payload,
            note: VERIFY_NOTE,
        },
    )
    .map_err(AppError::Internal)?;
    Ok(pdf_response(bytes, &d.number))
}

/// A PDF download named after the document (RFC 6266 with a UTF-8 file name).
pub(crate) fn pdf_response(bytes: Vec<u8>, name: &str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"document.pdf\"; filename*=UTF-8''{}.pdf", query_value(name)),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[derive(serde::Deserialize, Default)]
struct VerifyQuery {
    p: Option<String>,
}

#[derive(Template)]
#[template(path = "documents/verify.html")]
struct VerifyPage {
    layout: Layout,
    payload: String,
    verdict: Option<Verdict>,
    issuer: String,
    date: String,
    valid_to: String,
}

/// Checks a QR payload against the department's key and the document registered under its
/// number. Whoever holds the payload holds the paper, so the text is shown to compare.
async fn verify(ctx: RequestCtx, Query(q): Query<VerifyQuery>) -> PageResult {
    let payload = q.p.unwrap_or_default();
    let verdict = if payload.trim().is_empty() {
        None
    } else {
        Some(store::documents::verify(&ctx.state.db, &payload, ctx.state.clock.now()).await?)
    };
    let doc = verdict.as_ref().and_then(|v| v.issued.as_ref()).map(|i| &i.document);
    let lic = verdict.as_ref().and_then(|v| v.license.as_ref());
    let issuer = doc
        .map(|d| d.issuer.clone())
        .or_else(|| lic.map(|l| crate::pages::workflow::dept_name(&ctx, &l.issuer)))
        .unwrap_or_default();
    let date = doc
        .map(|d| d.issued_on)
        .or_else(|| lic.and_then(store::services::licenses::issued_on))
        .map(domain::text::date_cn)
        .unwrap_or_default();
    let valid_to = lic.map(store::services::licenses::valid_to_text).unwrap_or_default();
    render(VerifyPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "文书核验", "/documents/verify"),
        payload,
        verdict,
        issuer,
        date,
        valid_to,
    })
}

#[derive(Template)]
#[template(path = "documents/keys.html")]
struct KeysPage {
    layout: Layout,
    /// Department code, department name, seal name, public key (hex).
    keys: Vec<(String, String, String, String)>,
}

async fn keys(ctx: RequestCtx) -> PageResult {
    render(KeysPage {
        layout: Layout::new(&ctx, &ctx.state.config().city.name, "印章公钥与离线核验", "/documents/verify"),
        keys: store::documents::department_keys(&ctx.state.db)
            .await?
            .into_iter()
            .map(|(code, seal, public)| (code.clone(), crate::pages::workflow::dept_name(&ctx, &code), seal, public))
            .collect(),
    })
}

/// The DER prefix of an SM2 SubjectPublicKeyInfo (id-ecPublicKey with the SM2 curve OID
/// 1.2.156.10197.1.301), before the 65-byte uncompressed point.
const SM2_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf,
    0x55, 0x01, 0x82, 0x2d, 0x03, 0x42, 0x00,
];

/// A department's seal public key as PEM (`openssl`/`gmssl` read it).
pub fn public_key_pem(public_hex: &str) -> Option<String> {
    let point = hex::decode(public_hex).ok().filter(|p| p.len() == 65 && p[0] == 4)?;
    let mut der = SM2_SPKI_PREFIX.to_vec();
    der.extend_from_slice(&point);
    let b64 = base64(&der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    Some(format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n")))
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn key_file(ctx: RequestCtx, Path(department): Path<String>) -> PageResult {
    let code = department.trim_end_matches(".pem");
    let keys = store::documents::department_keys(&ctx.state.db).await?;
    let (_, _, public) =
        keys.into_iter().find(|(c, _, _)| c == code).ok_or_else(|| AppError::NotFound("该部门的印章公钥".into()))?;
    let pem = public_key_pem(&public).ok_or_else(|| AppError::NotFound("该部门的印章公钥".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pem-file".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"seal-{code}.pem\"")),
        ],
        pem,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_wraps_the_point_in_an_sm2_key_info() {
        let point = format!("04{}", "11".repeat(64));
        let pem = super::public_key_pem(&point).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE"));
        assert!(super::public_key_pem("04ab").is_none());
        assert_eq!(super::base64(b"Man"), "TWFu");
        assert_eq!(super::base64(b"Ma"), "TWE=");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::query_value("a|b 〔"), "a%7Cb%20%E3%80%94");
    }
}
