//! What a case gives the store's shared code, as types the shared code and the cases both use
//! and that name no case: the demo step. (The alert engine's seam, `alerts::SubjectSource`,
//! lives with the engine.) The lists of each case's parts are in `cases`.

use crate::Result;
use crate::config::CityConfig;
use std::collections::HashMap;
use time::OffsetDateTime;

/// When a case's demo data is loaded: before the demo accounts (data the accounts are chosen
/// from) or after them (data that names the accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoPhase {
    BeforeAccounts,
    AfterAccounts,
}

/// What a case's demo loader is given: the configuration, the generated city and its grids.
pub struct DemoContext<'a> {
    /// The database (for what a case keeps about it in memory, `Db::cache`); the demo writes
    /// through the transaction it is given.
    pub db: &'a crate::Db,
    pub cfg: &'a CityConfig,
    pub city: &'a domain::demo::DemoCity,
    /// Grid code → id.
    pub grid_ids: &'a HashMap<String, String>,
    pub now: OffsetDateTime,
}

pub type DemoFuture<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Vec<String>>> + Send + 'a>>;

/// A case's demo data, loaded in the demo's transaction; the answer is what was loaded, for
/// the demo's audit record ("在建工程项目 44").
pub trait DemoStep: Sync {
    fn load<'a>(&'a self, phase: DemoPhase, tx: &'a mut crate::Conn, cx: &'a DemoContext<'a>) -> DemoFuture<'a>;
}
