//! Risk scoring (风险评分): events (missed check-in, alarm, late response, complaint …) become
//! points with weights and time windows; the score maps to a colour code with the measures
//! recommended for it. Explainable (which events make the score) and monotone: one more
//! violation never lowers it.

use crate::config::{ConfigError, line_of};
use std::collections::HashSet;
use time::{Duration, OffsetDateTime};

crate::coded! {
    #[derive(PartialOrd, Ord, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Color ("码色") {
        Green = ("green", "绿码"),
        Yellow = ("yellow", "黄码"),
        Red = ("red", "红码"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventWeight {
    pub kind: String,
    pub name: String,
    pub points: u32,
    /// Only events within this many days count.
    pub window_days: u32,
    /// At most this many points from this kind in the window.
    pub cap: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub color: Color,
    /// The highest score of this band; the last band has none.
    pub max: Option<u32>,
    pub measures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreDef {
    pub id: String,
    pub name: String,
    pub subject: String,
    pub events: Vec<EventWeight>,
    pub bands: Vec<Band>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Contribution {
    pub kind: String,
    pub name: String,
    pub count: u32,
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Score {
    pub points: u32,
    pub color: Color,
    pub measures: Vec<String>,
    pub contributions: Vec<Contribution>,
}

impl ScoreDef {
    /// Scores events `(kind, at)` as of `now`. Unknown kinds are ignored.
    pub fn score(&self, events: &[(String, OffsetDateTime)], now: OffsetDateTime) -> Score {
        let mut contributions = vec![];
        let mut total = 0u32;
        for w in &self.events {
            let from = now - Duration::days(w.window_days as i64);
            let count = events.iter().filter(|(k, at)| k == &w.kind && *at > from && *at <= now).count() as u32;
            if count == 0 {
                continue;
            }
            let raw = count.saturating_mul(w.points);
            let points = w.cap.map_or(raw, |c| raw.min(c));
            total = total.saturating_add(points);
            contributions.push(Contribution { kind: w.kind.clone(), name: w.name.clone(), count, points });
        }
        let band = self
            .bands
            .iter()
            .find(|b| b.max.is_none_or(|m| total <= m))
            .unwrap_or_else(|| self.bands.last().expect("validated bands"));
        Score { points: total, color: band.color, measures: band.measures.clone(), contributions }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    score: Vec<RawScore>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScore {
    id: toml::Spanned<String>,
    name: String,
    subject: String,
    event: Vec<EventWeight>,
    band: Vec<Band>,
}

/// Parses score definitions. Bands must rise in colour and threshold and end with an open band,
/// so the score is monotone and every score has a colour.
pub fn parse(file: &str, text: &str) -> Result<Vec<ScoreDef>, Vec<ConfigError>> {
    let raw: RawFile = crate::config::parse_toml(file, text).map_err(|e| vec![e])?;
    let mut out = vec![];
    let mut errors = vec![];
    for (i, r) in raw.score.into_iter().enumerate() {
        let line = Some(line_of(text, r.id.span().start));
        let err = |f: &str, m: String| ConfigError::new(file, line, format!("score[{i}].{f}"), m);
        let mut kinds = HashSet::new();
        for (j, e) in r.event.iter().enumerate() {
            if !kinds.insert(e.kind.clone()) {
                errors.push(err(&format!("event[{j}].kind"), format!("事件类型“{}”重复", e.kind)));
            }
            if e.window_days == 0 {
                errors.push(err(&format!("event[{j}].window_days"), "统计天数应大于0".into()));
            }
        }
        if r.band.is_empty() {
            errors.push(err("band", "至少需要一个颜色档".into()));
        }
        for (j, pair) in r.band.windows(2).enumerate() {
            let ok_color = pair[1].color > pair[0].color;
            let ok_max = match (pair[0].max, pair[1].max) {
                (Some(a), Some(b)) => b > a,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !ok_color || !ok_max {
                errors.push(err(
                    &format!("band[{}]", j + 1),
                    "颜色档应按绿、黄、红顺序排列，分数上限递增，只有最后一档不设上限".into(),
                ));
            }
        }
        if r.band.last().is_some_and(|b| b.max.is_some()) {
            errors.push(err("band", "最后一档不应设上限 max".into()));
        }
        out.push(ScoreDef { id: r.id.into_inner(), name: r.name, subject: r.subject, events: r.event, bands: r.band });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const DEF: &str = r#"
[[score]]
id = "risk"
name = "监管风险"
subject = "person"

[[score.event]]
kind = "missed_check_in"
name = "未按时打卡"
points = 10
window_days = 30

[[score.event]]
kind = "fence_alarm"
name = "越界报警"
points = 25
window_days = 30
cap = 50

[[score.band]]
color = "green"
max = 19
measures = ["常规监管"]

[[score.band]]
color = "yellow"
max = 49
measures = ["飞行打卡", "上门巡视"]

[[score.band]]
color = "red"
measures = ["提请抓捕收监评估"]
"#;

    fn def() -> ScoreDef {
        parse("s.toml", DEF).unwrap().remove(0)
    }

    #[test]
    fn scores_explain_and_map_to_colours() {
        let d = def();
        let now = datetime!(2026-03-01 12:00 +8);
        let ev = |k: &str, days: i64| (k.to_string(), now - Duration::days(days));
        let s = d.score(
            &[
                ev("missed_check_in", 1),
                ev("missed_check_in", 40),
                ev("fence_alarm", 2),
                ev("fence_alarm", 3),
                ev("fence_alarm", 4),
            ],
            now,
        );
        assert_eq!(s.points, 60, "one check-in in the window (10) + alarms capped at 50");
        assert_eq!(s.color, Color::Red);
        assert_eq!(s.contributions.len(), 2);
        assert_eq!(
            s.contributions[1],
            Contribution { kind: "fence_alarm".into(), name: "越界报警".into(), count: 3, points: 50 }
        );
        assert_eq!(d.score(&[], now).color, Color::Green);
        assert_eq!(
            d.score(&[ev("missed_check_in", 1), ev("missed_check_in", 2)], now).measures,
            vec!["飞行打卡", "上门巡视"]
        );
    }

    #[test]
    fn bands_must_rise() {
        let bad = DEF.replacen("max = 49", "max = 10", 1);
        let e = parse("s.toml", &bad).unwrap_err();
        assert!(e[0].to_string().contains("score[0].band[1]"), "{e:?}");
    }

    proptest! {
        /// One more violation never lowers the score or its colour.
        #[test]
        fn score_is_monotone(days in prop::collection::vec((0usize..3, 0i64..60), 0..30), extra_kind in 0usize..3, extra_day in 0i64..29) {
            let d = def();
            let now = datetime!(2026-03-01 12:00 +8);
            let kinds = ["missed_check_in", "fence_alarm", "complaint"];
            let mut ev: Vec<(String, OffsetDateTime)> = days.iter().map(|(k, d)| (kinds[*k].to_string(), now - Duration::days(*d))).collect();
            let before = d.score(&ev, now);
            ev.push((kinds[extra_kind].to_string(), now - Duration::days(extra_day)));
            let after = d.score(&ev, now);
            prop_assert!(after.points >= before.points);
            prop_assert!(after.color >= before.color);
        }
    }
}
