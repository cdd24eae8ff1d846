-- Service items edited by administrators on the web (事项目录管理). Version 1 of an item is its
-- definition in config/services/items/; each edit adds the next version, kept for the
-- applications made under it (wf_instances.def_version). The newest version is the current one.
CREATE TABLE svc_item_versions (
    code            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    -- The whole item as JSON (code, name, time limits, result, materials with their fields).
    definition      TEXT NOT NULL,
    note            TEXT NOT NULL,
    -- One line per change against the version before, as shown in the history.
    changes         TEXT NOT NULL,
    edited_by       TEXT NOT NULL,
    edited_by_name  TEXT NOT NULL,
    edited_at       BIGINT NOT NULL,
    PRIMARY KEY (code, version)
);
