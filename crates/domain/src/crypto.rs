//! 国密 primitives for e-seals and e-licenses (电子印章 / 电子证照): SM2 signatures
//! (GB/T 32918) over SM3 digests (GB/T 32905), SM4 (GB/T 32907) in GCM mode for keys at rest,
//! and the canonical JSON that is digested. Randomness comes from the caller, so this stays pure.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::sec1::ToSec1Point;

/// The signer identity (ID_A) of GM/T 0009 when none is agreed: "1234567812345678".
pub const DEFAULT_ID: &str = "1234567812345678";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("私钥无效")]
    BadSecret,
    #[error("公钥无效")]
    BadPublic,
    #[error("签名格式无效")]
    BadSignature,
    #[error("密钥解密失败：主密钥不对或密文被改动")]
    Decrypt,
}

/// An SM2 key pair; the secret never leaves the server (see `store::seals`).
pub struct KeyPair {
    key: SigningKey,
}

impl KeyPair {
    /// From 32 random bytes; `None` in the negligible case they are 0 or ≥ n (draw again).
    pub fn from_secret(secret: &[u8; 32]) -> Option<KeyPair> {
        SigningKey::from_slice(DEFAULT_ID, secret).ok().map(|key| KeyPair { key })
    }

    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The public key, uncompressed SEC1 (04 ‖ x ‖ y), 65 bytes.
    pub fn public(&self) -> Vec<u8> {
        self.key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
    }

    /// SM2 signature r ‖ s (64 bytes) of `msg`: e = SM3(Z_A ‖ msg) with the default ID. The
    /// per-signature k is derived deterministically (RFC 6979 style), so no RNG is needed.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let s: Signature = self.key.sign(msg);
        s.to_bytes().into()
    }
}

/// Checks an SM2 signature r ‖ s of `msg` under an uncompressed or compressed SEC1 public key.
pub fn verify(public: &[u8], msg: &[u8], sig: &[u8]) -> Result<bool, CryptoError> {
    let vk = VerifyingKey::from_sec1_bytes(DEFAULT_ID, public).map_err(|_| CryptoError::BadPublic)?;
    let sig = Signature::from_slice(sig).map_err(|_| CryptoError::BadSignature)?;
    Ok(vk.verify(msg, &sig).is_ok())
}

pub fn sm3(data: &[u8]) -> [u8; 32] {
    use sm3::Digest;
    sm3::Sm3::digest(data).into()
}

type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// SM4-GCM encryption; `aad` binds the ciphertext to its owner (e.g. the department code), so
/// a key copied onto another department's row does not decrypt.
/// Equality that takes the same time wherever the inputs differ (tokens, MACs, hashes).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC (RFC 2104) over SM3, block size 64 bytes: the audit checkpoints' keyed signature.
pub fn hmac_sm3(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use sm3::{Digest, Sm3};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sm3(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| block.map(|k| k ^ b);
    let inner = Sm3::new().chain_update(pad(0x36)).chain_update(msg).finalize();
    Sm3::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

pub fn sm4_seal(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let c = Sm4Gcm::new(key.into());
    // Encryption into a Vec cannot fail for inputs under GCM's 64 GiB limit.
    c.encrypt(nonce.into(), Payload { msg: plaintext, aad }).expect("SM4-GCM encrypts")
}

pub fn sm4_open(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let c = Sm4Gcm::new(key.into());
    c.decrypt(nonce.into(), Payload { msg: ciphertext, aad }).map_err(|_| CryptoError::Decrypt)
}

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
/// strings and numbers as serde_json writes them. The same content always gives the same
/// bytes, whatever order a form or an API sent the fields in.
pub fn canonical_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod hmac_tests {
    use super::*;

    #[test]
    fn hmac_sm3_matches_openssl() {
        // Python: hmac.new(b"key", b"The quick brown fox jumps over the lazy dog", "sm3") (OpenSSL).
        let mac = hmac_sm3(b"key", b"The quick brown fox jumps over the lazy dog");
        assert_eq!(hex::encode(mac), "bd4a34077888162b210645b8ebf74b9af357303789357a27c7fc457244ebd398");
        // A key longer than the block is hashed first (same rule as every HMAC).
        assert_eq!(hmac_sm3(&[7u8; 100], b"x"), hmac_sm3(&sm3(&[7u8; 100]), b"x"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A.2: signature on the recommended curve.
    const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    const P: &str = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
    const Z: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
    const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
    const RS: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

    fn standard_key() -> KeyPair {
        KeyPair::from_secret(&unhex(D).try_into().unwrap()).unwrap()
    }

    #[test]
    fn gbt_32918_5_annex_a_signature_vector() {
        let k = standard_key();
        assert_eq!(hex::encode_upper(k.public()), P, "public key = d·G");
        // Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A), then e = SM3(Z_A ‖ M), by hand.
        let a = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
        let b = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
        let g = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";
        let mut za = vec![0x00, 0x80];
        za.extend_from_slice(DEFAULT_ID.as_bytes());
        for part in [a, b, g, &P[2..]] {
            za.extend(unhex(part));
        }
        let z = sm3(&za);
        assert_eq!(hex::encode_upper(z), Z);
        let mut zm = z.to_vec();
        zm.extend_from_slice(b"message digest");
        assert_eq!(hex::encode_upper(sm3(&zm)), E);
        // The standard's (r, s), made with its fixed k, verifies; a changed message does not.
        assert_eq!(verify(&unhex(P), b"message digest", &unhex(RS)), Ok(true));
        assert_eq!(verify(&unhex(P), b"message digesT", &unhex(RS)), Ok(false));
        let mut bad = unhex(RS);
        bad[63] ^= 1;
        assert_eq!(verify(&unhex(P), b"message digest", &bad), Ok(false));
        // Ours verifies too.
        let ours = k.sign(b"message digest");
        assert_eq!(verify(&k.public(), b"message digest", &ours), Ok(true));
        assert_eq!(verify(&[4, 1, 2], b"x", &ours), Err(CryptoError::BadPublic));
        assert_eq!(verify(&k.public(), b"x", &[1, 2, 3]), Err(CryptoError::BadSignature));
    }

    #[test]
    fn an_independent_implementation_agrees() {
        // libsm (citahub) is a separate SM2 implementation: each verifies the other's signatures.
        let ctx = libsm::sm2::signature::SigCtx::new();
        for seed in 1u8..=5 {
            let k = KeyPair::from_secret(&sm3(&[seed])).unwrap();
            let msg = format!("电子证照 {seed}").into_bytes();
            let lpk = ctx.load_pubkey(&k.public()).unwrap();
            let ours = k.sign(&msg);
            let lsig = libsm::sm2::signature::Signature::new(&ours[..32], &ours[32..]);
            assert!(ctx.verify(&msg, &lpk, &lsig).unwrap(), "libsm verifies ours");
            let lsk = ctx.load_seckey(&k.secret()).unwrap();
            let theirs = ctx.sign(&msg, &lsk, &lpk).unwrap();
            let pad = |v: Vec<u8>| [vec![0; 32 - v.len()], v].concat();
            let rs = [pad(theirs.get_r().to_bytes_be()), pad(theirs.get_s().to_bytes_be())].concat();
            assert_eq!(verify(&k.public(), &msg, &rs), Ok(true), "we verify libsm's");
            assert_eq!(verify(&k.public(), b"other", &rs), Ok(false));
        }
    }

    #[test]
    fn sm4_standard_vector_and_gcm_round_trip() {
        // GB/T 32907-2016 Annex A.1: key = plaintext = 0123456789abcdeffedcba9876543210.
        use sm4::cipher::{BlockCipherEncrypt, KeyInit};
        let key: [u8; 16] = unhex("0123456789abcdeffedcba9876543210").try_into().unwrap();
        let c = sm4::Sm4::new(&key.into());
        let mut block = key.into();
        c.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");

        let nonce = [9u8; 12];
        let ct = sm4_seal(&key, &nonce, b"sjj", b"private key");
        assert_eq!(sm4_open(&key, &nonce, b"sjj", &ct).unwrap(), b"private key");
        assert_eq!(sm4_open(&key, &nonce, b"zjj", &ct), Err(CryptoError::Decrypt), "bound to its owner");
        let mut t = ct.clone();
        t[0] ^= 1;
        assert_eq!(sm4_open(&key, &nonce, b"sjj", &t), Err(CryptoError::Decrypt), "tampering detected");
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,"二"],"x":null}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{ "a": {"x": null, "y": [1, "二"]}, "b": 1 }"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":null,"y":[1,"二"]},"b":1}"#);
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }
}
