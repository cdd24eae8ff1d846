//! Passwords: complexity rules and argon2id hashing (PHC string format).

use argon2::{Algorithm, Argon2, Params, Version};

/// Complexity: at least 8 characters from at least three of the four classes (upper case,
/// lower case, digits, symbols), not containing the login name, not a well-known password.
pub fn check_complexity(password: &str, login: &str) -> Result<(), Vec<String>> {
    let mut problems = vec![];
    if password.chars().count() < 8 {
        problems.push("密码长度至少8位".to_string());
    }
    if password.chars().count() > 128 {
        problems.push("密码长度不能超过128位".to_string());
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        problems.push("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类".to_string());
    }
    if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
        problems.push("密码不能包含账号".to_string());
    }
    const WEAK: &[&str] = &["password", "p@ssw0rd", "admin123", "12345678", "qwerty", "abc123"];
    if WEAK.iter().any(|w| password.to_lowercase().contains(w)) {
        problems.push("密码过于常见，请换一个".to_string());
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(MEMORY_KIB, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with a caller-supplied random salt (16 bytes from the OS RNG in production).
pub fn hash(password: &str, salt: &[u8; 16]) -> String {
    use argon2::password_hash::{PasswordHasher, phc::PasswordHash};
    let h: PasswordHash = hasher().hash_password_with_salt(password.as_bytes(), salt).expect("argon2 hashing");
    h.to_string()
}

/// Working memory for one password check with our parameters (19 MiB). The login path keeps
/// one per permitted concurrent check and reuses it, so memory stays bounded and flat however
/// many logins arrive (freshly allocated 19 MiB blocks on many threads were never returned).
pub struct Memory(Vec<argon2::Block>);

impl Memory {
    pub fn new() -> Memory {
        Memory(vec![argon2::Block::default(); MEMORY_KIB as usize])
    }
}

impl Default for Memory {
    fn default() -> Self {
        Memory::new()
    }
}

const MEMORY_KIB: u32 = 19 * 1024;

/// [`verify`] in caller-provided memory. A hash made with other parameters (an older install's)
/// is checked by [`verify`] instead.
pub fn verify_in(password: &str, phc: &str, memory: &mut Memory) -> bool {
    use argon2::password_hash::phc::PasswordHash;
    let Ok(h) = PasswordHash::new(phc) else { return false };
    let ours = h.algorithm.as_str() == "argon2id"
        && h.version.is_none_or(|v| v == 0x13)
        && h.params.to_string() == format!("m={MEMORY_KIB},t=2,p=1");
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else { return false };
    if !ours {
        return verify(password, phc);
    }
    let expected = expected.as_bytes();
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else { return false };
    let Ok(params) = Params::new(MEMORY_KIB, 2, 1, Some(expected.len())) else { return false };
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    if argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory.0[..]).is_err() {
        return false;
    }
    crate::crypto::ct_eq(out, expected)
}

/// Constant-time verification against a stored PHC string. A malformed hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
    match PasswordHash::new(phc) {
        Ok(h) => hasher().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complexity_rules_list_every_problem() {
        assert!(check_complexity("Yingshang@2026", "admin").is_ok());
        let e = check_complexity("abc", "zhang").unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(check_complexity("Zhangsan@2026", "zhangsan").unwrap_err()[0].contains("账号"));
        assert!(check_complexity("P@ssw0rd!!X", "u").is_err());
    }

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let h1 = hash("Yingshang@2026", &[1; 16]);
        let h2 = hash("Yingshang@2026", &[2; 16]);
        assert!(h1.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(h1, h2);
        assert!(verify("Yingshang@2026", &h1));
        assert!(!verify("yingshang@2026", &h1));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn checks_in_reused_memory_agree_with_plain_checks() {
        let mut m = Memory::new();
        let h = hash("Yingshang@2026", &[3; 16]);
        for (pw, ok) in [("Yingshang@2026", true), ("Yingshang@2027", false), ("", false), ("Yingshang@2026", true)] {
            assert_eq!(verify_in(pw, &h, &mut m), ok, "{pw}");
            assert_eq!(verify(pw, &h), ok);
        }
        assert!(!verify_in("x", "not a hash", &mut m));
        // Another install's parameters still verify (without the shared memory).
        let light = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, None).unwrap());
        use argon2::password_hash::PasswordHasher;
        let other = light.hash_password_with_salt(b"Yingshang@2026", &[4; 16]).unwrap().to_string();
        assert!(verify_in("Yingshang@2026", &other, &mut m));
        assert!(!verify_in("Yingshang@2025", &other, &mut m));
    }
}
