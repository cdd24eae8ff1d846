//! Administration: users, roles, departments, API tokens and the service-item catalog.

mod departments;
mod roles;

mod tokens;
mod users;

use crate::access::Routes;

pub use departments::kind_label as dept_kind_label;
pub use roles::perm_name;

pub fn routes() -> Routes {
    users::routes().merge(roles::routes()).merge(departments::routes()).merge(tokens::routes())
}
