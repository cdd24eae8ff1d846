//! A4 PDF copies of what the platform issues, laid out after GB/T 9704—2012 《党政机关公文格式》:
//! 版心 156 × 225 mm with 天头 37 mm and 订口 28 mm (§5.2.2), 28 characters × 22 lines of 3号
//! (16 pt) text (§5.2.3), the red 发文机关标志 35 mm below the 版心's top edge (§7.2.3), the 发文字号
//! two lines under it and the red separator 4 mm under that (§7.2.4, §7.2.6), the 2号 (22 pt)
//! 标题 two lines under the separator (§7.3.1), 主送机关 one line under the title (§7.3.2),
//! paragraphs indented two characters (§7.3.3), the 发文机关署名 and 成文日期 at the right with the
//! seal pressed over them (§7.3.5.1), and the page number "— 1 —" 7 mm under the 版心 (§7.5).
//!
//! No font is shipped: the CJK font comes from `[documents] font` in city.toml or from the
//! usual system places (Debian's `fonts-noto-cjk`). From a font collection (.ttc) the
//! Simplified Chinese face is taken. krilla embeds only the glyphs used (subsetting), so a
//! one-page notice is a few tens of kilobytes.

use krilla::Document as Pdf;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use rustybuzz::ttf_parser;
use std::sync::{Arc, OnceLock};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const TOP: f32 = 37.0 * MM;
const LEFT: f32 = 28.0 * MM;
const BODY_W: f32 = 156.0 * MM;
const BODY_H: f32 = 225.0 * MM;
/// 3号: the body size; 22 lines fill the 版心's height.
const BODY_PT: f32 = 15.75;
const LINE: f32 = BODY_H / 22.0;
const TITLE_PT: f32 = 22.0;
const RED: (u8, u8, u8) = (0xd4, 0x2d, 0x2d);

/// Places a CJK font is found on common systems, tried in order when city.toml names none.
const SYSTEM_FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "C:\\Windows\\Fonts\\simsun.ttc",
];

/// One loaded face: what krilla draws with and the bytes we measure advances from.
#[derive(Clone)]
struct Face {
    font: Font,
    data: Arc<Vec<u8>>,
    index: u32,
}

impl Face {
    fn load(path: &str) -> Result<Face, String> {
        let meta = std::fs::metadata(path).map_err(|_| format!("找不到字体文件 {path}"))?;
        // A font collection of all CJK faces is about 30 MB; refuse anything absurd.
        if meta.len() > 128 * 1024 * 1024 {
            return Err(format!("字体文件 {path} 超过 128 MB"));
        }
        let data = Arc::new(std::fs::read(path).map_err(|e| format!("读取字体文件 {path} 失败：{e}"))?);
        let count = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        // From a collection, the Simplified Chinese face (Noto's are named "… CJK SC").
        let index = (0..count)
            .find(|&i| {
                ttf_parser::Face::parse(&data, i).is_ok_and(|f| {
                    f.names().into_iter().any(|n| {
                        n.name_id == ttf_parser::name_id::FAMILY
                            && n.to_string().is_some_and(|s| s.ends_with(" SC") || s.contains("SC "))
                    })
                })
            })
            .unwrap_or(0);
        let face = ttf_parser::Face::parse(&data, index).map_err(|_| format!("字体文件 {path} 无法解析"))?;
        if face.glyph_index('国').is_none() {
            return Err(format!("字体文件 {path} 不含中文字形"));
        }
        let font = Font::new(data.clone().into(), index).ok_or_else(|| format!("字体文件 {path} 无法使用"))?;
        Ok(Face { font, data, index })
    }

    /// The advance of each character of `s` at `size` points (the face parsed once).
    fn advances(&self, s: &str, size: f32) -> Vec<f32> {
        let Ok(face) = ttf_parser::Face::parse(&self.data, self.index) else { return vec![0.0; s.chars().count()] };
        let upem = face.units_per_em() as f32;
        s.chars()
            .map(|c| {
                face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).map(|a| a as f32 / upem).unwrap_or(1.0)
                    * size
            })
            .collect()
    }

    /// The advance of `s` at `size` points.
    fn width(&self, s: &str, size: f32) -> f32 {
        self.advances(s, size).iter().sum()
    }
}

/// The regular face for text, and a bold one for the 发文机关标志 and the title (小标宋's place).
#[derive(Clone)]
pub struct Fonts {
    regular: Face,
    bold: Face,
}

static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();

/// The fonts, loaded on first use from the configured paths or the system's; the error says in
/// Chinese what to install or configure. A changed setting takes effect after a restart.
pub fn fonts(cfg: &store::config::CityConfig) -> Result<Fonts, String> {
    FONTS.get_or_init(|| load(&cfg.city.documents.font, &cfg.city.documents.font_bold)).clone()
}

fn load(font: &str, bold: &str) -> Result<Fonts, String> {
    // The configured file, or the first system file that loads (each read once).
    let (path, regular) = if font.is_empty() {
        SYSTEM_FONTS.iter().find_map(|p| Face::load(p).ok().map(|f| (p.to_string(), f))).ok_or_else(|| {
            "服务器上没有中文字体，无法生成 PDF：请安装 fonts-noto-cjk，或在 city.toml 的 [documents] font 中写明字体文件路径"
                .to_string()
        })?
    } else {
        (font.to_string(), Face::load(font)?)
    };
    let bold = if !bold.is_empty() {
        Face::load(bold)?
    } else {
        // The regular file's bold sibling when there is one (Noto: …-Regular.ttc → …-Bold.ttc).
        Face::load(&path.replace("Regular", "Bold")).unwrap_or_else(|_| regular.clone())
    };
    Ok(Fonts { regular, bold })
}

/// What a sheet shows, in GB/T 9704's order. A 公文 has a head; an e-license has rows instead
/// of paragraphs and no head.
pub struct Sheet<'a> {
    /// 发文机关标志 and 发文字号.
    pub head: Option<(&'a str, &'a str)>,
    pub title: &'a str,
    /// 主送机关.
    pub addressee: Option<&'a str>,
    pub paragraphs: &'a [String],
    /// Label and value lines (an e-license's fields).
    pub rows: &'a [(String, String)],
    /// 发文机关署名, 成文日期 (e.g. 2026年12月7日) and the name on the seal, if sealed.
    pub signer: &'a str,
    pub date: &'a str,
    pub seal: Option<&'a str>,
    /// The QR code's signed payload and the note beside it.
    pub payload: &'a str,
    pub note: &'a str,
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill { paint: rgb::Color::new(c.0, c.1, c.2).into(), opacity: NormalizedF32::ONE, rule: FillRule::NonZero }
}

/// Splits text into lines no wider than `width`, keeping closing punctuation off a line's start
/// (避头: it stays at the end of the line before, slightly over).
fn wrap(face: &Face, text: &str, size: f32, first_width: f32, width: f32) -> Vec<String> {
    const NO_START: &str = "，。、；：？！）》」』”’·…—%";
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0.0;
    for (c, w) in text.chars().zip(face.advances(text, size)) {
        let limit = if lines.is_empty() { first_width } else { width };
        if used + w > limit + 0.01 && !line.is_empty() && !NO_START.contains(c) {
            lines.push(std::mem::take(&mut line));
            used = 0.0;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages and the cursor on the current one.
struct Writer<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// Baseline of the next body line, from the page's top.
    y: f32,
}

/// What a page draws; collected first, so page numbers and the QR code go where the text ended.
enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: String },
    Rule { y: f32, color: (u8, u8, u8), width: f32 },
    Seal { cx: f32, cy: f32, name: String },
    Qr { x: f32, y: f32, size: f32, modules: Vec<bool>, n: usize },
}

impl<'f> Writer<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Writer { fonts, pages: vec![Vec::new()], y: TOP + LINE * 0.8 }
    }

    fn op(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    /// Moves to the next line, breaking the page when the 版心 is full.
    fn need(&mut self, height: f32) {
        if self.y + height > TOP + BODY_H + 1.0 {
            self.pages.push(Vec::new());
            self.y = TOP + LINE * 0.8;
        }
    }

    fn line(&mut self, x: f32, text: String, size: f32, bold: bool, color: (u8, u8, u8)) {
        self.need(0.0);
        let y = self.y;
        self.op(Op::Text { x, y, size, bold, color, text });
        self.y += LINE;
    }

    fn centered(&mut self, text: &str, size: f32, bold: bool, color: (u8, u8, u8), line_gap: f32) {
        let face = if bold { &self.fonts.bold } else { &self.fonts.regular };
        for l in wrap(face, text, size, BODY_W, BODY_W) {
            let w = face.width(&l, size);
            self.need(0.0);
            let y = self.y;
            self.op(Op::Text { x: LEFT + (BODY_W - w) / 2.0, y, size, bold, color, text: l });
            self.y += line_gap;
        }
    }

    fn paragraph(&mut self, text: &str) {
        let indent = 2.0 * BODY_PT;
        let lines = wrap(&self.fonts.regular, text, BODY_PT, BODY_W - indent, BODY_W);
        for (i, l) in lines.into_iter().enumerate() {
            self.line(LEFT + if i == 0 { indent } else { 0.0 }, l, BODY_PT, false, (0, 0, 0));
        }
    }
}

/// Renders a sheet to PDF bytes.
pub fn render(fonts: &Fonts, s: &Sheet<'_>) -> Result<Vec<u8>, String> {
    let mut w = Writer::new(fonts);
    if let Some((org, number)) = s.head {
        // 发文机关标志: red, bold, its top 35 mm below the 版心's top, narrowed to the 版心's width.
        let size = (BODY_W / fonts.bold.width(org, 1.0).max(1.0)).min(36.0);
        let mark_base = TOP + 35.0 * MM + size * 0.88;
        w.op(Op::Text {
            x: LEFT + (BODY_W - fonts.bold.width(org, size)) / 2.0,
            y: mark_base,
            size,
            bold: true,
            color: RED,
            text: org.to_string(),
        });
        // 发文字号 two lines under the mark, the red separator 4 mm under it.
        let number_base = mark_base + 2.0 * LINE + BODY_PT * 0.2;
        w.op(Op::Text {
            x: LEFT + (BODY_W - fonts.regular.width(number, BODY_PT)) / 2.0,
            y: number_base,
            size: BODY_PT,
            bold: false,
            color: (0, 0, 0),
            text: number.to_string(),
        });
        let rule = number_base + 4.0 * MM + 2.0;
        w.op(Op::Rule { y: rule, color: RED, width: 1.5 });
        // The title two lines under the separator.
        w.y = rule + 2.0 * LINE;
    } else {
        w.y = TOP + LINE;
    }
    w.centered(s.title, TITLE_PT, true, (0, 0, 0), TITLE_PT * 1.5);
    w.y += LINE - TITLE_PT * 0.5;
    if let Some(to) = s.addressee {
        let lines = wrap(&fonts.regular, &format!("{to}："), BODY_PT, BODY_W, BODY_W);
        for l in lines {
            w.line(LEFT, l, BODY_PT, false, (0, 0, 0));
        }
    }
    for p in s.paragraphs {
        w.paragraph(p);
    }
    // Label–value rows: the label in bold, its value wrapping under the value column, which
    // is as wide as the longest label up to eight characters; a longer label has its value on
    // the next line.
    let cap = 8.0 * BODY_PT;
    let label_w = s
        .rows
        .iter()
        .map(|(l, _)| fonts.bold.width(&format!("{l}："), BODY_PT))
        .filter(|w| *w <= cap)
        .fold(4.0 * BODY_PT, f32::max)
        + 0.5 * BODY_PT;
    for (label, value) in s.rows {
        let text = format!("{label}：");
        let own_line = fonts.bold.width(&text, BODY_PT) > label_w;
        if own_line {
            w.line(LEFT, text.clone(), BODY_PT, true, (0, 0, 0));
        }
        let lines = wrap(&fonts.regular, value, BODY_PT, BODY_W - label_w, BODY_W - label_w);
        for (i, l) in lines.into_iter().enumerate() {
            w.need(0.0);
            if i == 0 && !own_line {
                let y = w.y;
                w.op(Op::Text { x: LEFT, y, size: BODY_PT, bold: true, color: (0, 0, 0), text: text.clone() });
            }
            w.line(LEFT + label_w, l, BODY_PT, false, (0, 0, 0));
        }
    }
    // 落款: the signer centred over the date, the date four characters from the right
    // (§7.3.5.1), both under the seal; kept on one page with the seal.
    w.y += LINE;
    w.need(2.0 * LINE);
    let date_w = fonts.regular.width(s.date, BODY_PT);
    let date_right = LEFT + BODY_W - 4.0 * BODY_PT;
    let centre = date_right - date_w / 2.0;
    let signer_w = fonts.regular.width(s.signer, BODY_PT);
    let signer_x = (centre - signer_w / 2.0).min(LEFT + BODY_W - signer_w);
    let sign_y = w.y;
    w.line(signer_x, s.signer.to_string(), BODY_PT, false, (0, 0, 0));
    w.line(date_right - date_w, s.date.to_string(), BODY_PT, false, (0, 0, 0));
    if let Some(name) = s.seal {
        // Pressed over signer and date, which sit a little below its centre.
        w.op(Op::Seal { cx: centre, cy: sign_y - 0.3 * LINE, name: name.to_string() });
    }
    // The QR code and its note at the foot of the last page's 版心.
    let code = qrcode::QrCode::with_error_correction_level(s.payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| "核验码过长，无法生成二维码".to_string())?;
    let n = code.width();
    let modules: Vec<bool> = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    let qr_size = 30.0 * MM;
    let qr_y = (w.y + 0.5 * LINE).max(TOP + BODY_H - qr_size);
    if qr_y + qr_size > TOP + BODY_H + 12.0 * MM {
        w.pages.push(Vec::new());
    }
    let qr_y = qr_y.min(TOP + BODY_H - qr_size);
    w.op(Op::Qr { x: LEFT, y: qr_y, size: qr_size, modules, n });
    let note_x = LEFT + qr_size + 4.0 * MM;
    let note_pt = 9.0;
    for (i, l) in wrap(&fonts.regular, s.note, note_pt, BODY_W - qr_size - 4.0 * MM, BODY_W - qr_size - 4.0 * MM)
        .into_iter()
        .enumerate()
    {
        w.op(Op::Text {
            x: note_x,
            y: qr_y + note_pt * 1.2 + i as f32 * note_pt * 1.6,
            size: note_pt,
            bold: false,
            color: (0x44, 0x44, 0x44),
            text: l,
        });
    }
    draw(fonts, w.pages, s.title)
}

fn draw(fonts: &Fonts, pages: Vec<Vec<Op>>, title: &str) -> Result<Vec<u8>, String> {
    let mut pdf = Pdf::new();
    pdf.set_metadata(Metadata::new().title(title.to_string()).language("zh-CN".into()).creator("Yingshang".into()));
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("页面尺寸无效")?;
    let total = pages.len();
    for (i, ops) in pages.into_iter().enumerate() {
        let mut page = pdf.start_page_with(settings.clone());
        let mut sf = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, bold, color, text } => {
                    let face = if bold { &fonts.bold } else { &fonts.regular };
                    sf.set_fill(Some(fill(color)));
                    sf.draw_text(Point::from_xy(x, y), face.font.clone(), size, &text, false, TextDirection::Auto);
                }
                Op::Rule { y, color, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(LEFT, y);
                    pb.line_to(LEFT + BODY_W, y);
                    if let Some(path) = pb.finish() {
                        sf.set_fill(None);
                        sf.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(color.0, color.1, color.2).into(),
                            width,
                            ..Stroke::default()
                        }));
                        sf.draw_path(&path);
                        sf.set_stroke(None);
                    }
                }
                Op::Seal { cx, cy, name } => seal(&mut sf, &fonts.regular, cx, cy, &name),
                Op::Qr { x, y, size, modules, n } => {
                    let quiet = 2usize;
                    let cell = size / (n + 2 * quiet) as f32;
                    let mut pb = PathBuilder::new();
                    for (k, dark) in modules.iter().enumerate() {
                        if *dark {
                            let (r, c) = (k / n, k % n);
                            if let Some(rect) = Rect::from_xywh(
                                x + (c + quiet) as f32 * cell,
                                y + (r + quiet) as f32 * cell,
                                cell + 0.05,
                                cell + 0.05,
                            ) {
                                pb.push_rect(rect);
                            }
                        }
                    }
                    if let Some(path) = pb.finish() {
                        sf.set_fill(Some(fill((0, 0, 0))));
                        sf.draw_path(&path);
                    }
                }
            }
        }
        // 页码: "— n —" 7 mm under the 版心, 4号 (14 pt); odd pages one character in from the
        // right, even pages from the left (§7.5).
        let label = format!("— {} —", i + 1);
        let pw = fonts.regular.width(&label, 14.0);
        let x = if (i + 1) % 2 == 1 { LEFT + BODY_W - 14.0 - pw } else { LEFT + 14.0 };
        sf.set_fill(Some(fill((0, 0, 0))));
        if total > 0 {
            sf.draw_text(
                Point::from_xy(x, TOP + BODY_H + 7.0 * MM + 14.0 * 0.8),
                fonts.regular.font.clone(),
                14.0,
                &label,
                false,
                TextDirection::Auto,
            );
        }
        sf.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| format!("生成 PDF 失败：{e:?}"))
}

/// The round seal: a red ring 42 mm across (the size of a department's official seal), the
/// name along the upper arc, a star in the middle.
fn seal(sf: &mut Surface<'_>, face: &Face, cx: f32, cy: f32, name: &str) {
    let r = 21.0 * MM;
    let red = rgb::Color::new(RED.0, RED.1, RED.2);
    let mut pb = PathBuilder::new();
    // A circle from four cubic arcs.
    let k = 0.552_284_8 * r;
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    if let Some(ring) = pb.finish() {
        sf.set_fill(None);
        sf.set_stroke(Some(Stroke { paint: red.into(), width: 2.2, ..Stroke::default() }));
        sf.draw_path(&ring);
        sf.set_stroke(None);
    }
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len().max(1) as f32;
    let size = (r * 0.3).min(240.0f32.to_radians() * r * 0.78 / n);
    sf.set_fill(Some(fill(RED)));
    for (i, c) in chars.iter().enumerate() {
        // Spread over 240° of the upper arc, upright toward the centre.
        let a = (-210.0 + 240.0 * (i as f32 + 0.5) / n).to_radians();
        let (x, y) = (cx + r * 0.76 * a.cos(), cy + r * 0.76 * a.sin());
        let s = c.to_string();
        let cw = face.width(&s, size);
        sf.push_transform(&Transform::from_rotate_at(a.to_degrees() + 90.0, x, y));
        sf.draw_text(
            Point::from_xy(x - cw / 2.0, y + size * 0.38),
            face.font.clone(),
            size,
            &s,
            false,
            TextDirection::Auto,
        );
        sf.pop();
    }
    let mut pb = PathBuilder::new();
    let (outer, inner) = (r * 0.3, r * 0.12);
    for i in 0..10 {
        let rr = if i % 2 == 0 { outer } else { inner };
        let a = (-90.0 + 36.0 * i as f32).to_radians();
        let (x, y) = (cx + rr * a.cos(), cy + rr * a.sin());
        if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
    }
    pb.close();
    if let Some(star) = pb.finish() {
        sf.draw_path(&star);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Option<Fonts> {
        load("", "").ok()
    }

    #[test]
    fn a_notice_renders_as_a4_with_its_text() {
        // Machines without a CJK font cannot render; CI installs fonts-noto-cjk.
        let Some(f) = fonts() else { return };
        let paragraphs: Vec<String> = (0..12)
            .map(|i| format!("经监测，你单位承建的项目存在农民工工资拖欠情况（第{i}段），依据《保障农民工工资支付条例》第三十条，请于收到本通知之日起十个工作日内整改。"))
            .collect();
        let sheet = Sheet {
            head: Some(("亳州市人力资源和社会保障局", "亳人社整〔2026〕1号")),
            title: "整改通知单",
            addressee: Some("安徽某建设集团有限公司"),
            paragraphs: &paragraphs,
            rows: &[],
            signer: "亳州市人力资源和社会保障局",
            date: "2026年12月7日",
            seal: Some("亳州市人力资源和社会保障局"),
            payload: "YSDOC1|亳人社整〔2026〕1号|rsj|2026-12-07|00|00",
            note: "扫描二维码核验",
        };
        let bytes = render(&f, &sheet).unwrap();
        if let Ok(p) = std::env::var("PDF_OUT") {
            std::fs::write(p, &bytes).unwrap();
        }
        assert!(bytes.starts_with(b"%PDF-"));
        // Twelve long paragraphs overflow one 22-line page.
        let count = |pat: &[u8]| bytes.windows(pat.len()).filter(|w| *w == pat).count();
        let pages = count(b"/Type/Page") - count(b"/Type/Pages");
        assert!(pages >= 2, "pages: {pages}");
        assert!(bytes.len() < 400_000, "{} bytes: the font must be subset", bytes.len());
    }

    #[test]
    fn wrapping_keeps_closing_punctuation_off_a_line_start() {
        let Some(f) = fonts() else { return };
        let text = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八，后文";
        let lines = wrap(&f.regular, text, BODY_PT, BODY_W, BODY_W);
        assert!(lines.iter().all(|l| !l.starts_with('，')), "{lines:?}");
        assert_eq!(lines.concat(), text);
    }
}
