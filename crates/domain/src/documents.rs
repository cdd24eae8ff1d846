//! Documents a department issues (公文): the parts GB/T 9704—2012 《党政机关公文格式》 lays out
//! (发文机关标志, 发文字号, 标题, 主送机关, 正文, 发文机关署名, 成文日期, 印章), the exact text
//! its seal signs, and the compact signed payload its QR code carries so that anyone holding
//! the department's public key can check it offline.

use crate::crypto;
use time::Date;

/// The 发文字号: 发文机关代字 + 〔年份〕 + 序号 + 号 (GB/T 9704—2012 §7.2.4), e.g.
/// 亳人社监〔2026〕7号.
pub fn number(prefix: &str, word: &str, year: i32, serial: i64) -> String {
    format!("{prefix}{word}〔{year}〕{serial}号")
}

/// An issued document, as signed and shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    /// The kind's stable code (`rectification_order`, …), for lists and filters.
    pub kind: String,
    pub number: String,
    pub title: String,
    /// 发文机关 (the department's full name) and its code (which key signs).
    pub issuer: String,
    pub issuer_code: String,
    /// 主送: the party the law names.
    pub addressee: String,
    /// Its USCC or ID number, when it is a party with a login on the platform.
    pub addressee_id: Option<String>,
    /// 正文, paragraph by paragraph.
    pub paragraphs: Vec<String>,
    /// 成文日期.
    pub issued_on: Date,
}

/// The payload format's version tag; a verifier refuses other tags.
pub const PAYLOAD_TAG: &str = "YSDOC1";

impl Document {
    /// The text the seal's digest covers: every part, one per line, in a fixed order.
    pub fn signed_text(&self) -> String {
        let mut s = format!(
            "发文机关：{}\n发文字号：{}\n标题：{}\n主送：{}\n",
            self.issuer, self.number, self.title, self.addressee
        );
        for p in &self.paragraphs {
            s.push_str("正文：");
            s.push_str(p);
            s.push('\n');
        }
        s.push_str(&format!("成文日期：{}", self.issued_on));
        s
    }

    /// What the seal signs: the tag, number, issuer code, date and the SM3 digest of the
    /// whole text, so a QR code can carry it and the signature together.
    pub fn signed_head(&self) -> String {
        format!(
            "{PAYLOAD_TAG}|{}|{}|{}|{}",
            self.number,
            self.issuer_code,
            self.issued_on,
            hex::encode(crypto::sm3(self.signed_text().as_bytes()))
        )
    }

    /// The QR payload: the signed head and the signature in hex.
    pub fn payload(&self, signature: &[u8]) -> String {
        format!("{}|{}", self.signed_head(), hex::encode(signature))
    }
}

/// A payload read back from a QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub number: String,
    pub issuer_code: String,
    pub issued_on: Date,
    /// SM3 of the document's signed text, hex.
    pub digest: String,
    pub head: String,
    pub signature: Vec<u8>,
}

/// Reads a payload; the error says in Chinese what is wrong with it.
pub fn parse_payload(s: &str) -> Result<Payload, String> {
    let s = s.trim();
    if s.len() > 1024 {
        return Err("核验码过长（不超过 1024 个字符）".into());
    }
    let parts: Vec<&str> = s.split('|').collect();
    if parts.len() != 6 || parts[0] != PAYLOAD_TAG {
        return Err("这不是本平台文书的核验码：应为二维码中以 YSDOC1 开头的整段文字".into());
    }
    let issued_on = Date::parse(parts[3], &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| "核验码中的成文日期无效".to_string())?;
    if parts[4].len() != 64 || hex::decode(parts[4]).is_err() {
        return Err("核验码中的摘要无效".into());
    }
    let signature = hex::decode(parts[5]).ok().filter(|b| b.len() == 64).ok_or("核验码中的签名无效")?;
    Ok(Payload {
        number: parts[1].to_string(),
        issuer_code: parts[2].to_string(),
        issued_on,
        digest: parts[4].to_string(),
        head: parts[..5].join("|"),
        signature,
    })
}

impl Payload {
    /// Whether the issuer's public key (uncompressed SEC1) signed this payload: the check a
    /// verifier can make offline.
    pub fn verify(&self, public_key: &[u8]) -> bool {
        crypto::verify(public_key, self.head.as_bytes(), &self.signature).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn doc() -> Document {
        Document {
            kind: "rectification_order".into(),
            number: number("亳人社监", "整", 2026, 7),
            title: "整改通知单".into(),
            issuer: "亳州市人力资源和社会保障局".into(),
            issuer_code: "rsj".into(),
            addressee: "安徽某建设集团有限公司".into(),
            addressee_id: None,
            paragraphs: vec!["经监测……".into(), "请于 2026-12-31 前整改。".into()],
            issued_on: date!(2026 - 12 - 07),
        }
    }

    #[test]
    fn the_number_follows_gb_t_9704() {
        assert_eq!(doc().number, "亳人社监整〔2026〕7号");
    }

    #[test]
    fn a_payload_verifies_offline_and_any_change_breaks_it() {
        let key = crypto::KeyPair::from_secret(&[7u8; 32]).unwrap();
        let d = doc();
        let payload = d.payload(&key.sign(d.signed_head().as_bytes()));
        let p = parse_payload(&payload).unwrap();
        assert!(p.verify(&key.public()));
        assert_eq!(p.digest, hex::encode(crypto::sm3(d.signed_text().as_bytes())));
        // Another number in the same payload, or another text under the same digest, fails.
        let forged = payload.replace("〔2026〕7号", "〔2026〕8号");
        assert!(!parse_payload(&forged).unwrap().verify(&key.public()));
        let mut changed = d.clone();
        changed.paragraphs[1] = "请于 2027-12-31 前整改。".into();
        assert_ne!(changed.signed_head(), d.signed_head());
        let other = crypto::KeyPair::from_secret(&[8u8; 32]).unwrap();
        assert!(!p.verify(&other.public()));
    }

    #[test]
    fn bad_payloads_are_refused_in_chinese() {
        assert!(parse_payload("hello").unwrap_err().contains("不是本平台文书"));
        assert!(parse_payload(&"x".repeat(2000)).unwrap_err().contains("过长"));
        assert!(parse_payload("YSDOC1|n|rsj|2026-13-01|00|00").unwrap_err().contains("成文日期"));
    }
}
