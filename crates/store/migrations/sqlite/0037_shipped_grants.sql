-- What the shipped role templates (config/roles.toml) have granted this install, role by role
-- and permission by permission. On every start a (role, permission) the templates name that is
-- not recorded here is new in this release: it is granted and recorded. One recorded but no
-- longer in the role is an administrator's removal and stays removed; a role recorded here but
-- gone was deleted by an administrator and is not re-created.
-- Installs from before this table take their built-in roles as they stand as the baseline.
CREATE TABLE shipped_grants (
    role_code  TEXT NOT NULL,
    permission TEXT NOT NULL,
    shipped_at BIGINT NOT NULL,
    PRIMARY KEY (role_code, permission)
);
INSERT INTO shipped_grants (role_code, permission, shipped_at)
    SELECT r.code, p.permission, 0 FROM role_permissions p JOIN roles r ON r.id = p.role_id WHERE r.builtin = 1;
-- A built-in role with no permissions left is still known to have shipped.
INSERT INTO shipped_grants (role_code, permission, shipped_at)
    SELECT r.code, '', 0 FROM roles r WHERE r.builtin = 1;
