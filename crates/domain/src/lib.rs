//! Pure business logic of Yingshang (营商).
//!
//! Nothing here performs IO: functions take values (and a `now` where time matters) and return
//! values. Persistence lives in `store`, HTTP in `web`, the binary in `cli`.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod clock;
pub mod coded;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod documents;
pub mod expr;
pub mod geo;
pub mod ids;
pub mod money;
pub mod net;
pub mod rules;
pub mod scoring;
pub mod services;
pub mod supervision;
pub mod text;
pub mod wages;
pub mod workflow;

#[cfg(test)]
mod hostile_tests;

pub use ids::{DivisionCode, IdCardNo, Uscc};
pub use money::Money;
