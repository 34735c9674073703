import CivicMapCore
import GRDB

/// Schema migrations, registered by stable names and never edited after they land.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-spatial-metadata") { db in
            // Inside GRDB's transaction the first argument must be 0; WGS84_ONLY keeps the file small.
            try SpatiaLite.expectOne(db, "SELECT InitSpatialMetadata(0, 'WGS84_ONLY')")
        }
        migrator.registerMigration("v1-regions-organisations") { db in
            try db.execute(sql: schemaV1)
            try SpatiaLite.expectOne(db, "SELECT AddGeometryColumn('regions', 'centre', 4326, 'POINT', 'XY', 1)")
            try SpatiaLite.expectOne(db, "SELECT AddGeometryColumn('regions', 'boundary', 4326, 'MULTIPOLYGON', 'XY')")
            try SpatiaLite.expectOne(db, "SELECT AddGeometryColumn('organizations', 'geom', 4326, 'POINT', 'XY', 1)")
            try SpatiaLite.expectOne(db, "SELECT CreateSpatialIndex('organizations', 'geom')")
            try db.execute(sql: triggersV1)
        }
        migrator.registerMigration("v2-overview-covering-index") { db in
            // The map's overview aggregates every match; this narrow index holds all it reads, so
            // SQLite scans it instead of the wide rows (addresses, descriptions).
            try db.execute(sql: """
                CREATE INDEX organizations_overview ON organizations(lon, lat, kind, region_code, distance_to_centre_m)
                """)
        }
        migrator.registerMigration("v3-kind-change-and-regions-version") { db in
            try db.execute(sql: """
                -- Only internship sites publish programmes, also after a change of kind.
                CREATE TRIGGER organizations_kind_changed AFTER UPDATE OF kind ON organizations
                WHEN NEW.kind IS NOT 'internship_site' BEGIN
                    DELETE FROM programmes WHERE organization_id = NEW.id;
                END;

                -- Bumped on every change of regions, so a running server sees another process's
                -- `civicmap init` and reloads its cached regions.
                CREATE TABLE regions_version (version INTEGER NOT NULL);
                INSERT INTO regions_version VALUES (1);
                CREATE TRIGGER regions_version_on_insert AFTER INSERT ON regions BEGIN
                    UPDATE regions_version SET version = version + 1;
                END;
                CREATE TRIGGER regions_version_on_update AFTER UPDATE ON regions BEGIN
                    UPDATE regions_version SET version = version + 1;
                END;
                CREATE TRIGGER regions_version_on_delete AFTER DELETE ON regions BEGIN
                    UPDATE regions_version SET version = version + 1;
                END;
                """)
        }
        migrator.registerMigration("v4-settlements") { db in
            // Populated places for the region report's coverage; replaced whole by `civicmap init`.
            try db.execute(sql: """
                CREATE TABLE settlements (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    region_code TEXT NOT NULL REFERENCES regions(code),
                    population INTEGER NOT NULL DEFAULT 0 CHECK (population >= 0),
                    lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
                    lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180)
                );
                CREATE INDEX settlements_region ON settlements(region_code, population DESC);
                CREATE INDEX programmes_by_start ON programmes(starts_on, id);
                """)
        }
        migrator.registerMigration("v5-precomputed-features") { db in
            // Each organisation's GeoJSON Feature, encoded by the store (FeatureCache) so reads copy
            // bytes. NULL means stale: these triggers clear it whenever what it shows changes, and
            // FeatureCache.refresh fills it again in the same transaction as the change.
            try db.execute(sql: """
                ALTER TABLE organizations ADD COLUMN feature_json BLOB;
                CREATE INDEX organizations_stale_features ON organizations(id) WHERE feature_json IS NULL;
                CREATE TABLE feature_cache (format INTEGER NOT NULL);
                INSERT INTO feature_cache VALUES (0);
                CREATE TRIGGER organizations_feature_stale AFTER UPDATE OF kind, name, region_code, settlement, address, inn,
                    ogrn, categories, founded_year, website, email, phone, description, source, lat, lon,
                    distance_to_centre_m, created_at, updated_at ON organizations BEGIN
                    UPDATE organizations SET feature_json = NULL WHERE id = NEW.id;
                END;
                CREATE TRIGGER programmes_feature_stale_on_insert AFTER INSERT ON programmes BEGIN
                    UPDATE organizations SET feature_json = NULL WHERE id = NEW.organization_id;
                END;
                CREATE TRIGGER programmes_feature_stale_on_update AFTER UPDATE ON programmes BEGIN
                    UPDATE organizations SET feature_json = NULL WHERE id IN (OLD.organization_id, NEW.organization_id);
                END;
                CREATE TRIGGER programmes_feature_stale_on_delete AFTER DELETE ON programmes BEGIN
                    UPDATE organizations SET feature_json = NULL WHERE id = OLD.organization_id;
                END;
                CREATE TRIGGER regions_feature_stale AFTER UPDATE OF iso, name_ru ON regions BEGIN
                    UPDATE organizations SET feature_json = NULL WHERE region_code = NEW.code;
                END;
                """)
        }
        migrator.registerMigration("v6-tokens-and-audit") { db in
            // Bearer tokens are kept as SHA-256 digests only: a copy of the database gives no
            // one the right to write. The audit log keeps every change with the Feature before
            // and after (imports: one entry with their summary).
            try db.execute(sql: """
                CREATE TABLE api_tokens (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
                    role TEXT NOT NULL CHECK (role IN ('admin', 'editor')),
                    region_code TEXT REFERENCES regions(code),
                    token_sha256 TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
                    created_at TEXT NOT NULL,
                    revoked_at TEXT
                );
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL CHECK (action IN ('create', 'replace', 'update', 'delete', 'import')),
                    organization_id INTEGER,
                    before BLOB,
                    after BLOB
                );
                CREATE INDEX audit_log_by_organization ON audit_log(organization_id, id);
                CREATE INDEX audit_log_by_actor ON audit_log(actor, id);
                """)
        }
        migrator.registerMigration("v7-features-in-space-order") { db in
            // The Features move out of the wide organisations rows into a table of their own,
            // keyed in space order (FeatureKey). Stale ones are queued by id in stale_features
            // (a missing Feature cannot mark itself); FeatureCache.refresh drains the queue in
            // the same transaction as the change.
            try db.execute(sql: """
                DROP TRIGGER organizations_feature_stale;
                DROP TRIGGER programmes_feature_stale_on_insert;
                DROP TRIGGER programmes_feature_stale_on_update;
                DROP TRIGGER programmes_feature_stale_on_delete;
                DROP TRIGGER regions_feature_stale;
                DROP INDEX organizations_stale_features;
                CREATE TABLE features (key INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL, json BLOB NOT NULL);
                CREATE TABLE stale_features (id INTEGER PRIMARY KEY);
                INSERT INTO stale_features (id) SELECT id FROM organizations WHERE feature_json IS NULL;
                """)
            var kept: [(key: Int64, row: [DatabaseValue])] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT id, kind, lon, lat, feature_json FROM organizations WHERE feature_json IS NOT NULL")
            while let row = try rows.next() {
                let key = FeatureKey.of(id: row[0], longitude: row[2], latitude: row[3])
                kept.append((key, [key.databaseValue, row["id"], row["kind"], row["feature_json"]]))
            }
            let insert = try db.makeStatement(sql: "INSERT INTO features (key, id, kind, json) VALUES (?, ?, ?, ?)")
            for feature in kept.sorted(by: { $0.key < $1.key }) { try insert.execute(arguments: StatementArguments(feature.row)) }
            try db.execute(sql: """
                ALTER TABLE organizations DROP COLUMN feature_json;
                CREATE TRIGGER organizations_feature_stale_on_insert AFTER INSERT ON organizations
                    WHEN NOT EXISTS (SELECT 1 FROM features WHERE id = NEW.id) BEGIN
                    \(queue("SELECT NEW.id AS id"));
                END;
                CREATE TRIGGER organizations_feature_stale AFTER UPDATE OF id, kind, name, region_code, settlement, address, inn,
                    ogrn, categories, founded_year, website, email, phone, description, source, lat, lon,
                    distance_to_centre_m, created_at, updated_at ON organizations BEGIN
                    DELETE FROM features WHERE id IN (OLD.id, NEW.id);
                    \(queue("SELECT NEW.id AS id"));
                END;
                CREATE TRIGGER organizations_feature_gone AFTER DELETE ON organizations BEGIN
                    DELETE FROM features WHERE id = OLD.id;
                    DELETE FROM stale_features WHERE id = OLD.id;
                END;
                CREATE TRIGGER programmes_feature_stale_on_insert AFTER INSERT ON programmes BEGIN
                    DELETE FROM features WHERE id = NEW.organization_id;
                    \(queue("SELECT NEW.organization_id AS id"));
                END;
                CREATE TRIGGER programmes_feature_stale_on_update AFTER UPDATE ON programmes BEGIN
                    DELETE FROM features WHERE id IN (OLD.organization_id, NEW.organization_id);
                    \(queue("SELECT OLD.organization_id AS id UNION SELECT NEW.organization_id"));
                END;
                CREATE TRIGGER programmes_feature_stale_on_delete AFTER DELETE ON programmes BEGIN
                    DELETE FROM features WHERE id = OLD.organization_id;
                    \(queue("SELECT OLD.organization_id AS id"));
                END;
                CREATE TRIGGER regions_feature_stale AFTER UPDATE OF iso, name_ru ON regions BEGIN
                    DELETE FROM features WHERE id IN (SELECT id FROM organizations WHERE region_code = NEW.code);
                    \(queue("SELECT id FROM organizations WHERE region_code = NEW.code"));
                END;
                """)
        }
        migrator.registerMigration("v8-triggers-on-change") { db in
            // An upsert names every content column, so triggers "OF lat, lon" or "OF categories"
            // fired for every updated row, changed or not: re-importing 200,000 rows with a new
            // address each spent 11 of 50 s recomputing distances and categories that stayed.
            try db.execute(sql: """
                DROP TRIGGER organizations_distance_on_move;
                CREATE TRIGGER organizations_distance_on_move AFTER UPDATE OF lat, lon, region_code ON organizations
                WHEN NEW.lat IS NOT OLD.lat OR NEW.lon IS NOT OLD.lon OR NEW.region_code IS NOT OLD.region_code BEGIN
                    UPDATE organizations SET distance_to_centre_m =
                        (SELECT geodesic_distance_m(NEW.lat, NEW.lon, r.centre_lat, r.centre_lon) FROM regions r WHERE r.code = NEW.region_code)
                    WHERE id = NEW.id;
                END;
                DROP TRIGGER organizations_categories_on_update;
                CREATE TRIGGER organizations_categories_on_update AFTER UPDATE OF categories ON organizations
                WHEN NEW.categories IS NOT OLD.categories BEGIN
                    DELETE FROM organization_categories WHERE organization_id = NEW.id;
                    INSERT OR IGNORE INTO organization_categories (category, organization_id)
                        SELECT value, NEW.id FROM json_each(NEW.categories);
                END;
                """)
        }
        migrator.registerMigration("v9-audit-restore") { db in
            // A restore is logged like any change. The actions are a CHECK: the table is rebuilt.
            try db.execute(sql: rebuildAuditLog(actions: ["create", "replace", "update", "delete", "import", "restore"]))
        }
        migrator.registerMigration("v10-token-lifecycle") { db in
            // Tokens may expire and say when they were last used; making and revoking one, and
            // changing a region (a moved centre moves every distance in it), are logged too.
            try db.execute(sql: """
                ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
                ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
                """)
            // A literal list, not `AuditAction.allCases`: a migration must create the same table
            // whenever it runs (a later action gets a migration of its own).
            try db.execute(sql: rebuildAuditLog(actions: [
                "create", "replace", "update", "delete", "import", "restore", "token-create", "token-revoke", "regions",
            ]))
        }
        migrator.registerMigration("v11-audit-revert") { db in
            // `civicmap revert ENTRY` puts an organisation back as an entry found it, logged as
            // 'revert' with the entry it reverts.
            try db.execute(sql: rebuildAuditLog(actions: [
                "create", "replace", "update", "delete", "import", "restore", "token-create", "token-revoke", "regions", "revert",
            ]))
            try db.execute(sql: "ALTER TABLE audit_log ADD COLUMN reverts INTEGER")
        }
        migrator.registerMigration("v12-import-changes") { db in
            // Which organisations each import (and each revert of one) wrote, with their Features
            // before it, so that `civicmap revert` can undo a whole import. A rowid table (the
            // Features are kilobytes), found by entry (a revert) and by organisation ("written by
            // a later entry?"); reverts found by what they revert ("already undone?").
            try db.execute(sql: """
                CREATE TABLE import_changes (
                    entry_id INTEGER NOT NULL,
                    organization_id INTEGER NOT NULL,
                    -- The organisation's Feature before the entry; NULL when the entry created it.
                    before BLOB
                );
                CREATE UNIQUE INDEX import_changes_by_entry ON import_changes(entry_id, organization_id);
                CREATE INDEX import_changes_by_organization ON import_changes(organization_id, entry_id);
                CREATE INDEX audit_log_by_reverted ON audit_log(reverts) WHERE reverts IS NOT NULL;
                """)
        }
        return migrator
    }

    /// The audit log with `actions` as its CHECK (SQLite cannot alter one: the table is rebuilt).
    /// Its columns are those of v6; a rebuild after v11 must add `reverts` back, after v12 its index.
    private static func rebuildAuditLog(actions: [String]) -> String {
        """
        CREATE TABLE audit_log_new (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN (\(actions.map { "'\($0)'" }.joined(separator: ", ")))),
            organization_id INTEGER,
            before BLOB,
            after BLOB
        );
        INSERT INTO audit_log_new (id, at, actor, action, organization_id, before, after)
            SELECT id, at, actor, action, organization_id, before, after FROM audit_log;
        DROP TABLE audit_log;
        ALTER TABLE audit_log_new RENAME TO audit_log;
        CREATE INDEX audit_log_by_organization ON audit_log(organization_id, id);
        CREATE INDEX audit_log_by_actor ON audit_log(actor, id);
        """
    }

    /// Queues the ids `rows` selects (a column named id) as stale, each once. Not `INSERT OR IGNORE`: in a
    /// trigger, an outer upsert's conflict handling overrides it, and the duplicate aborts.
    private static func queue(_ rows: String) -> String {
        "INSERT INTO stale_features (id) SELECT DISTINCT id FROM (\(rows)) WHERE id NOT IN (SELECT id FROM stale_features)"
    }

    private static let schemaV1 = """
        CREATE TABLE kinds (
            code TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 40 AND code NOT GLOB '*[^a-z_]*'),
            title_ru TEXT NOT NULL,
            title_en TEXT NOT NULL,
            position INTEGER NOT NULL
        );
        INSERT INTO kinds (code, title_ru, title_en, position) VALUES
            ('ngo', 'НКО', 'Non-profit organisations', 1),
            ('tos', 'ТОС', 'Territorial public self-government bodies', 2),
            ('internship_site', 'Стажировочные площадки', 'Internship sites', 3);

        CREATE TABLE regions (
            code TEXT PRIMARY KEY CHECK (length(code) = 2),
            iso TEXT UNIQUE,
            okato TEXT,
            name_ru TEXT NOT NULL,
            name_en TEXT NOT NULL,
            federal_district_ru TEXT NOT NULL,
            centre_name_ru TEXT NOT NULL,
            centre_name_en TEXT NOT NULL,
            centre_lat REAL NOT NULL CHECK (centre_lat BETWEEN -90 AND 90),
            centre_lon REAL NOT NULL CHECK (centre_lon BETWEEN -180 AND 180),
            status TEXT NOT NULL
        );

        CREATE TABLE organizations (
            id INTEGER PRIMARY KEY CHECK (id > 0),
            kind TEXT NOT NULL REFERENCES kinds(code),
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
            region_code TEXT NOT NULL REFERENCES regions(code),
            settlement TEXT,
            address TEXT,
            inn TEXT CHECK (inn NOT GLOB '*[^0-9]*' AND length(inn) IN (10, 12)),
            ogrn TEXT UNIQUE CHECK (ogrn NOT GLOB '*[^0-9]*' AND length(ogrn) IN (13, 15)),
            categories TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(categories) AND json_type(categories) = 'array'),
            founded_year INTEGER,
            website TEXT,
            email TEXT,
            phone TEXT,
            description TEXT,
            source TEXT,
            lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
            lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
            -- Maintained by triggers: geodesic metres to the region's administrative centre.
            distance_to_centre_m REAL,
            -- Lower-cased name, settlement and address (ё as е) for text search.
            search_text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX organizations_region ON organizations(region_code, id);
        CREATE INDEX organizations_kind ON organizations(kind, id);
        CREATE INDEX organizations_region_distance ON organizations(region_code, distance_to_centre_m);
        CREATE INDEX organizations_natural_key ON organizations(kind, region_code, name);

        -- Derived from organizations.categories by triggers: the index behind category filters.
        CREATE TABLE organization_categories (
            category TEXT NOT NULL,
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            PRIMARY KEY (category, organization_id)
        ) WITHOUT ROWID;
        CREATE INDEX organization_categories_by_organization ON organization_categories(organization_id);

        CREATE TABLE programmes (
            id INTEGER PRIMARY KEY,
            organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
            topics TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(topics) AND json_type(topics) = 'array'),
            length_days INTEGER NOT NULL CHECK (length_days BETWEEN 1 AND 60),
            starts_on TEXT CHECK (starts_on IS NULL OR date(starts_on) IS starts_on),
            ends_on TEXT CHECK (ends_on IS NULL OR (date(ends_on) IS ends_on AND (starts_on IS NULL OR ends_on >= starts_on))),
            capacity INTEGER CHECK (capacity > 0),
            selection_status TEXT NOT NULL DEFAULT 'planned'
                CHECK (selection_status IN ('planned', 'open', 'closed', 'completed', 'cancelled')),
            description TEXT,
            UNIQUE (organization_id, position)
        );
        """

    private static let triggersV1 = """
        -- Bulk writers (the import) compute the distance in their INSERT; others get it here.
        CREATE TRIGGER organizations_distance_on_insert AFTER INSERT ON organizations
        WHEN NEW.distance_to_centre_m IS NULL BEGIN
            UPDATE organizations SET distance_to_centre_m =
                (SELECT geodesic_distance_m(NEW.lat, NEW.lon, r.centre_lat, r.centre_lon) FROM regions r WHERE r.code = NEW.region_code)
            WHERE id = NEW.id;
        END;
        CREATE TRIGGER organizations_distance_on_move AFTER UPDATE OF lat, lon, region_code ON organizations BEGIN
            UPDATE organizations SET distance_to_centre_m =
                (SELECT geodesic_distance_m(NEW.lat, NEW.lon, r.centre_lat, r.centre_lon) FROM regions r WHERE r.code = NEW.region_code)
            WHERE id = NEW.id;
        END;
        CREATE TRIGGER regions_centre_moved AFTER UPDATE OF centre_lat, centre_lon ON regions BEGIN
            UPDATE organizations SET distance_to_centre_m = geodesic_distance_m(lat, lon, NEW.centre_lat, NEW.centre_lon)
            WHERE region_code = NEW.code;
        END;

        CREATE TRIGGER organizations_categories_on_insert AFTER INSERT ON organizations BEGIN
            INSERT OR IGNORE INTO organization_categories (category, organization_id)
                SELECT value, NEW.id FROM json_each(NEW.categories);
        END;
        CREATE TRIGGER organizations_categories_on_update AFTER UPDATE OF categories ON organizations BEGIN
            DELETE FROM organization_categories WHERE organization_id = NEW.id;
            INSERT OR IGNORE INTO organization_categories (category, organization_id)
                SELECT value, NEW.id FROM json_each(NEW.categories);
        END;

        CREATE TRIGGER programmes_belong_to_internship_sites BEFORE INSERT ON programmes
        WHEN (SELECT kind FROM organizations WHERE id = NEW.organization_id) IS NOT 'internship_site' BEGIN
            SELECT RAISE(ABORT, 'programmes belong to internship sites only');
        END;
        """
}
