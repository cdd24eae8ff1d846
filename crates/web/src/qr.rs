//! QR codes as inline SVG: one path of dark modules, drawn here so no image library or
//! script is needed and the code prints sharp at any size.

/// The QR code of `text` (error correction M), as an SVG element `size` CSS pixels wide; `None`
/// if the text is too long for a QR code.
pub fn svg(text: &str, size: u32, label: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let mut path = String::new();
    // One rectangle per run of dark modules in a row keeps the path short.
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if colors[y * width + x] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && colors[y * width + x] == qrcode::Color::Dark {
                x += 1;
            }
            let n = x - start;
            path.push_str(&format!("M{} {}h{n}v1h-{n}z", start + quiet, y + quiet));
        }
    }
    let all = width + 2 * quiet;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {all} {all}\" width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\"><rect width=\"{all}\" height=\"{all}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        html_escape(label)
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_payload_becomes_a_qr_code() {
        let s = super::svg("YSDOC1|亳人社整〔2026〕1号|rsj|2026-12-07|00", 160, "核验二维码").unwrap();
        assert!(s.starts_with("<svg") && s.contains("<path d=\"M"));
        assert!(super::svg(&"x".repeat(5000), 160, "过长").is_none());
    }
}
