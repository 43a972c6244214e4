-- A small CMS, written for git dbsync's demo and tests: configuration
-- (settings, menus, roles, permissions, content types) beside content
-- (users, posts, comments), a cache, sessions and a log.
PRAGMA foreign_keys = ON;

CREATE TABLE settings (
  name       TEXT PRIMARY KEY,
  value      TEXT,
  data       JSON,
  autoload   BOOLEAN NOT NULL DEFAULT 1,
  updated_at DATETIME
);
INSERT INTO settings VALUES
  ('site_name', 'Acme Garden Supplies', NULL, 1, '2026-11-01 09:15:00'),
  ('site_tagline', 'Everything grows', NULL, 1, '2026-11-01 09:15:00'),
  ('theme_colors', NULL, '{"primary":"#2e7d32","accent":"#ff6f00","dark":false}', 1, '2026-11-02 10:00:00'),
  ('posts_per_page', '10', NULL, 1, '2026-11-01 09:15:00'),
  ('mail_footer', 'Acme Garden Supplies · 12 Elm Street
Springfield', NULL, 0, '2026-11-03 16:45:30.250');

CREATE TABLE content_types (
  id          INTEGER PRIMARY KEY,
  machine     TEXT NOT NULL UNIQUE,
  label       TEXT NOT NULL,
  fields      JSON NOT NULL
);
INSERT INTO content_types VALUES
  (1, 'article', 'Article', '[{"name":"body","type":"text"},{"name":"image","type":"file","max_size":2097152}]'),
  (2, 'page', 'Basic page', '[{"name":"body","type":"text"}]'),
  (3, 'product', 'Product', '[{"name":"price","type":"decimal","scale":2},{"name":"sku","type":"string"}]');

CREATE TABLE menus (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL
);
INSERT INTO menus VALUES (1, 'main', 'Main navigation'), (2, 'footer', 'Footer');

CREATE TABLE menu_items (
  id        INTEGER PRIMARY KEY,
  menu_id   INTEGER NOT NULL REFERENCES menus(id),
  parent_id INTEGER REFERENCES menu_items(id),
  title     TEXT NOT NULL,
  path      TEXT NOT NULL,
  weight    INTEGER NOT NULL DEFAULT 0,
  enabled   BOOLEAN NOT NULL DEFAULT 1
);
INSERT INTO menu_items VALUES
  (1, 1, NULL, 'Home', '/', 0, 1),
  (2, 1, NULL, 'Shop', '/shop', 1, 1),
  (3, 1, 2, 'Seeds', '/shop/seeds', 0, 1),
  (4, 1, 2, 'Tools', '/shop/tools', 1, 1),
  (5, 2, NULL, 'Imprint', '/imprint', 0, 1),
  (6, 2, NULL, 'Privacy', '/privacy', 1, 0);

CREATE TABLE roles (
  id     INTEGER PRIMARY KEY,
  name   TEXT NOT NULL UNIQUE,
  weight INTEGER NOT NULL
);
INSERT INTO roles VALUES (1, 'anonymous', 0), (2, 'editor', 1), (3, 'administrator', 2);

CREATE TABLE permissions (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT
);
INSERT INTO permissions VALUES
  (1, 'access content', 'View published content'),
  (2, 'edit content', 'Create and edit any content'),
  (3, 'administer site', 'Change settings, menus and roles');

CREATE TABLE role_permissions (
  role_id       INTEGER NOT NULL REFERENCES roles(id),
  permission_id INTEGER NOT NULL REFERENCES permissions(id),
  PRIMARY KEY (role_id, permission_id)
);
INSERT INTO role_permissions VALUES (1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3);

CREATE TABLE users (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL UNIQUE,
  email    TEXT NOT NULL,
  role_id  INTEGER NOT NULL REFERENCES roles(id),
  created  DATETIME NOT NULL
);
INSERT INTO users VALUES
  (1, 'ada', 'ada@example.org', 3, '2026-01-05 08:00:00'),
  (2, 'grace', 'grace@example.org', 2, '2026-02-11 12:30:00');

CREATE TABLE posts (
  id         INTEGER PRIMARY KEY,
  type_id    INTEGER NOT NULL REFERENCES content_types(id),
  author_id  INTEGER NOT NULL REFERENCES users(id),
  title      TEXT NOT NULL,
  body       TEXT,
  price      DECIMAL(10,2),
  published  DATE
);
INSERT INTO posts VALUES
  (1, 1, 1, 'Spring sowing', 'Start tomatoes indoors in March.', NULL, '2026-03-01'),
  (2, 3, 2, 'Heirloom tomato seeds', 'Twelve varieties.', 4.5, '2026-03-02'),
  (3, 2, 1, 'About us', 'A family business since 1952.', NULL, NULL);

CREATE TABLE comments (
  id      INTEGER PRIMARY KEY,
  post_id INTEGER NOT NULL REFERENCES posts(id),
  author  TEXT NOT NULL,
  body    TEXT NOT NULL
);
INSERT INTO comments VALUES (1, 1, 'Lin', 'Worked for me!'), (2, 2, 'Sam', 'Arrived quickly.');

CREATE TABLE cache_page (cid TEXT PRIMARY KEY, data BLOB, expires INTEGER);
INSERT INTO cache_page VALUES ('/', X'3C68746D6C3E', 1893456000);

CREATE TABLE sessions (sid TEXT PRIMARY KEY, uid INTEGER, data BLOB);
CREATE TABLE watchdog (id INTEGER PRIMARY KEY, type TEXT, message TEXT, at DATETIME);
INSERT INTO watchdog VALUES (1, 'cron', 'Cron run completed', '2026-11-20 03:00:00');
