package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gobwas/glob"
)

// A Preset knows an application's standard schema: which tables are
// configuration, how their rows are identified, which columns hold ids of
// other tables and which hold JSON or PHP-serialized values. Init applies
// it to the tables the database has; the generic rules classify the rest.
type Preset struct {
	Name  string
	About string
	// markers are sets of base names whose presence, all with one
	// prefix, identifies the application and its table prefix.
	markers [][]string
	rules   []presetRule
}

// presetRule classifies the tables whose name is a prefix followed by a
// name matching base (a glob) and sets their [table] options. In option
// values, {p} stands for the prefix.
type presetRule struct {
	base    string
	class   Class
	options [][2]string
	// with names tables (base names) the rule needs beside its own: one
	// version of the application's (Drupal 8's node has a uuid, 7's not).
	with []string
}

func opt(kv ...string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, [2]string{kv[i], kv[i+1]})
	}
	return out
}

func rules(class Class, bases string) []presetRule {
	var out []presetRule
	for _, b := range strings.Fields(bases) {
		out = append(out, presetRule{base: b, class: class})
	}
	return out
}

func concat(lists ...[]presetRule) []presetRule {
	var out []presetRule
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// drupalConfig are the options of Drupal 8's config table.
var drupalConfig = opt("key", "collection name", "codec", "data:php",
	"set", "data.permissions data.dependencies.module data.dependencies.config data.dependencies.theme")

// Presets lists the presets init knows, by name.
var Presets = map[string]*Preset{
	"wordpress": {
		Name: "wordpress",
		About: "WordPress (any table prefix, multisite sites included): options and network options by name, " +
			"their PHP-serialized (or JSON) values decoded; site URLs, salts, admin e-mail, mail server, search-engine visibility, " +
			"transients, cron, rewrite rules, versions and timestamps stay per environment, the front page, posts page and privacy policy page by the page's type and slug, and other options holding ids of posts, " +
			"terms or attachments (sticky posts, site icon, default categories, a theme's logo and menu locations) stay out; " +
			"posts, terms, comments, users and links are content, users' logins, names, addresses and password hashes and posts' passwords redacted when pulled",
		markers: [][]string{{"options", "posts"}},
		rules: concat(
			[]presetRule{
				{base: "options", class: ClassConfig, options: opt(
					"key", "option_name",
					"codec", "option_value:php,json",
					"rows", "!siteurl !home !cron !rewrite_rules !recently_edited !db_upgraded !_transient_* !_site_transient_* "+
						// salts and keys: secrets of each installation
						"!auth_key !auth_salt !secure_auth_key !secure_auth_salt !logged_in_key !logged_in_salt !nonce_key !nonce_salt !recovery_keys "+
						// per environment: who gets mail, how mail is sent, whether search engines index, where uploads go
						"!admin_email !new_admin_email !admin_email_lifespan !mailserver_* !blog_public !upload_path !upload_url_path "+
						// ids of posts, terms and attachments, which differ between databases
						// (the pages below travel by key instead)
						"!sticky_posts !site_icon "+
						"!default_category !default_link_category !default_email_category "+
						// versions, counters, timestamps and state derived by WordPress itself
						"!db_version !initial_db_version !fresh_site !can_compress_scripts !recently_activated !uninstall_plugins "+
						"!auto_core_update_* !auto_plugin_theme_update_emails !finished_splitting_shared_terms !finished_updating_comment_type "+
						"!theme_switched !theme_switched_via_customizer !customize_stashed_theme_mods !https_detection_errors "+
						"!wp_force_deactivated_plugins !recovery_mode_email_last_sent !user_count !*_children",
					// lists of plugins (and other top-level lists) are sets: activations on both sides combine
					"set", "option_value",
					// a theme's logo (an attachment) and menu locations (terms) are ids
					"exclude-paths", "option_value.custom_logo option_value.nav_menu_locations",
					// the front page, the posts page and the privacy policy are
					// pages: by their type and slug, the target's ids looked up
					"reference", "option_value {p}posts none=0 where option_name in (page_on_front, page_for_posts, wp_page_for_privacy_policy)")},
				{base: "sitemeta", class: ClassConfig, options: opt(
					"key", "site_id meta_key",
					"codec", "meta_value:php,json",
					"rows", "!*/siteurl !*/_site_transient_* !*/auth_key !*/auth_salt !*/secure_auth_* !*/logged_in_* !*/nonce_* "+
						"!*/admin_email !*/site_admins !*/user_count !*/blog_count !*/wpmu_upgrade_site !*/db_version")},
			},
			// pull copies users with their logins, names, addresses and
			// password hashes redacted
			[]presetRule{{base: "users", class: ClassContent, options: opt(
				"redact", "user_login name", "redact", "user_nicename name", "redact", "display_name name",
				"redact", "user_email email", "redact", "user_pass hash", "redact", "user_url constant:",
				"redact", "user_activation_key constant:")}},
			// a protected post's password is a secret of production: a
			// hash keeps the post protected, an empty one stays empty
			// by type and slug, the key options' references to pages travel by
			[]presetRule{{base: "posts", class: ClassContent, options: opt("key", "post_type post_name", "redact", "post_password hash")}},
			// users' names, kept as rows of a key-value table
			[]presetRule{{base: "usermeta", class: ClassContent, options: opt(
				"redact", "meta_value name where meta_key in (first_name, last_name, nickname, billing_first_name, billing_last_name, shipping_first_name, shipping_last_name)",
				"redact", "meta_value constant: where meta_key in (billing_phone, billing_address_1, billing_address_2, shipping_address_1, shipping_address_2, billing_company, shipping_company, description)")}},
			rules(ClassContent, "postmeta comments commentmeta terms termmeta term_taxonomy term_relationships links blogs blogmeta site signups registration_log"),
		),
	},
	"drupal": {
		Name: "drupal",
		About: "Drupal 8 and later: the config table by collection and name, its PHP-serialized data decoded; " +
			"Drupal 7: variables, roles and their permissions, blocks, text formats, content types, vocabularies, image styles, menus; " +
			"caches, sessions, queues, locks and logs kept out; entities and key-value state are content, " +
			"the front and error pages (Drupal 8 and later) by their node's uuid",
		markers: [][]string{{"config", "key_value"}, {"variable", "system"}},
		rules: concat(
			[]presetRule{
				// with the node module: the front page and the error pages name nodes, by uuid
				{base: "config", class: ClassConfig, with: []string{"node"}, options: slices.Concat(drupalConfig,
					opt("reference", "data.page.front {p}node format=/node/{}",
						"reference", "data.page.403 {p}node format=/node/{}",
						"reference", "data.page.404 {p}node format=/node/{}"))},
				{base: "config", class: ClassConfig, options: drupalConfig},
				// Drupal 8 and later: a node by its uuid, wherever config names it
				{base: "node", class: ClassContent, options: opt("key", "uuid"), with: []string{"config", "key_value"}},
				// menu links are content, but a site that classes them config
				// moves their links to nodes by uuid
				{base: "menu_link_content_data", class: ClassContent, with: []string{"config", "key_value", "node"}, options: opt(
					"reference", "link__uri {p}node format=entity:node/{} format=internal:/node/{}")},
				{base: "variable", class: ClassConfig, options: opt(
					"key", "name",
					"codec", "value:php",
					"set", "value",
					"rows", "!cron_* !drupal_private_key !drupal_hash_salt !css_js_query_string !install_time !update_last_check !*_last_run !javascript_parsed "+
						// per environment: file paths, maintenance, error display, caching and aggregation
						"!file_public_path !file_private_path !file_temporary_path !maintenance_mode !clean_url !error_level "+
						"!cache !block_cache !cache_lifetime !page_cache_maximum_age !page_compression !preprocess_css !preprocess_js "+
						// paths naming nodes (node/12), whose ids differ between databases
						"!site_frontpage !site_403 !site_404 "+
						// state Drupal derives and rebuilds
						"!menu_masks !menu_expanded !menu_rebuild_needed !path_alias_whitelist !node_access_needs_rebuild "+
						"!drupal_http_request_fails !update_last_email_notification !node_cron_last !statistics_day_timestamp !cache_flush_*")},
				{base: "role", class: ClassConfig, options: opt("key", "name")},
				{base: "role_permission", class: ClassConfig, options: opt("key", "rid permission", "reference", "rid {p}role")},
				{base: "block", class: ClassConfig, options: opt("key", "theme module delta")},
				{base: "filter_format", class: ClassConfig},
				{base: "filter", class: ClassConfig, options: opt("codec", "settings:php")},
				{base: "node_type", class: ClassConfig},
				{base: "taxonomy_vocabulary", class: ClassConfig, options: opt("key", "machine_name")},
				{base: "image_styles", class: ClassConfig, options: opt("key", "name")},
				{base: "menu_custom", class: ClassConfig},
				// Users keep their roles: a role in use must not go.
				{base: "users_roles", class: ClassContent, options: opt("reference", "rid {p}role")},
				// pull copies users (Drupal 8 and later) redacted
				{base: "users_field_data", class: ClassContent, options: opt(
					"redact", "name name", "redact", "pass hash", "redact", "mail email", "redact", "init email")},
			},
			rules(ClassCache, "cache cache_* cachetags router"),
			rules(ClassTemp, "sessions semaphore queue flood batch history key_value_expire"),
			rules(ClassIgnore, "watchdog"),
			rules(ClassSequence, "sequences"),
			rules(ClassContent, "key_value system node node_* users users_* user__* taxonomy_* comment* file_* path_alias* menu_link_content* menu_links menu_router block_content* shortcut* search_* url_alias authmap role_* field_*"),
		),
	},
	"processwire": {
		Name: "processwire",
		About: "ProcessWire: modules, fields, fieldgroups and templates by name, their JSON data decoded, " +
			"fieldgroups_fields joining them by reference, a page field's templates by name; pages and field_* tables are content; caches and login throttles kept out",
		markers: [][]string{{"modules", "templates", "fieldgroups"}},
		rules: concat(
			[]presetRule{
				// created: when each installation added the module
				{base: "modules", class: ClassConfig, options: opt("key", "class", "codec", "data:json", "exclude-columns", "created")},
				{base: "fields", class: ClassConfig, options: opt("key", "name", "codec", "data:json",
					// a page field's templates (its pages' parent is content, kept as an id)
					"reference", "data.template_id {p}templates none=0",
					"reference", "data.template_ids.# {p}templates")},
				{base: "fieldgroups", class: ClassConfig, options: opt("key", "name", "codec", "data:json")},
				{base: "fieldgroups_fields", class: ClassConfig, options: opt(
					"key", "fieldgroups_id fields_id",
					"reference", "fieldgroups_id {p}fieldgroups",
					"reference", "fields_id {p}fields",
					"codec", "data:json")},
				{base: "templates", class: ClassConfig, options: opt(
					"key", "name",
					"reference", "fieldgroups_id {p}fieldgroups",
					"codec", "data:json",
					// the templates a template's pages may have as children or parents: ids, and sets
					"reference", "data.childTemplates.# {p}templates",
					"reference", "data.parentTemplates.# {p}templates",
					"set", "data.childTemplates data.parentTemplates")},
				// Pages are content, but a template they use must not go.
				{base: "pages", class: ClassContent, options: opt("reference", "templates_id {p}templates")},
				// pull copies users' passwords and addresses redacted
				{base: "field_pass", class: ClassContent, options: opt("redact", "data hash", "redact", "salt hash")},
				{base: "field_email", class: ClassContent, options: opt("redact", "data email")},
			},
			rules(ClassCache, "caches"),
			rules(ClassTemp, "session_login_throttle"),
			rules(ClassContent, "pages pages_* page_* field_* users* process_* textformatter_*"),
		),
	},
	"django": {
		Name: "django",
		About: "Django: content types by app label and model, groups by name, permissions by content type and codename, " +
			"group permissions joining them; migrations left to manage.py migrate; sessions kept out; " +
			"sites (each environment's domain), users, their groups and permissions, and the admin log are content",
		markers: [][]string{{"django_migrations"}},
		rules: concat(
			[]presetRule{
				{base: "django_content_type", class: ClassConfig, options: opt("key", "app_label model", "merge", "no-delete")},
				{base: "auth_group", class: ClassConfig, options: opt("key", "name")},
				{base: "auth_permission", class: ClassConfig, options: opt("key", "content_type_id codename")},
				{base: "auth_group_permissions", class: ClassConfig, options: opt("key", "group_id permission_id")},
			},
			rules(ClassIgnore, "django_migrations"),
			rules(ClassTemp, "django_session"),
			rules(ClassCache, "django_cache*"),
			// pull copies users with their names, addresses and password hashes redacted
			[]presetRule{{base: "auth_user", class: ClassContent, options: opt(
				"redact", "username name", "redact", "first_name name", "redact", "last_name name",
				"redact", "email email", "redact", "password hash")}},
			rules(ClassContent, "django_site auth_user_groups auth_user_user_permissions django_admin_log"),
		),
	},
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var names []string
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PresetMatch is a table a preset rule claims.
type PresetMatch struct {
	rule   *presetRule
	prefix string
}

// Class is the class the rule gives the table.
func (m PresetMatch) Class() Class { return m.rule.class }

// Match finds, for every table, the preset rule that claims it. The
// application must be recognized (a marker set present with one prefix).
func (p *Preset) Match(tables []string) (map[string]PresetMatch, error) {
	have := map[string]bool{}
	for _, t := range tables {
		have[t] = true
	}
	var prefixes []string
	for _, t := range tables {
		for _, set := range p.markers {
			if !strings.HasSuffix(t, set[0]) {
				continue
			}
			prefix, all := strings.TrimSuffix(t, set[0]), true
			for _, m := range set[1:] {
				all = all && have[prefix+m]
			}
			if all && !slices.Contains(prefixes, prefix) {
				prefixes = append(prefixes, prefix)
			}
		}
	}
	if len(prefixes) == 0 {
		var want []string
		for _, set := range p.markers {
			want = append(want, strings.Join(set, " and "))
		}
		return nil, fmt.Errorf("the database does not look like %s: it has no tables %s", p.Name, strings.Join(want, ", or "))
	}
	// The longest prefix first: wp_2_options is site 2's, not wp_'s "2_options".
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	out := map[string]PresetMatch{}
	for _, t := range tables {
		for _, prefix := range prefixes {
			if !strings.HasPrefix(t, prefix) {
				continue
			}
			base := strings.TrimPrefix(t, prefix)
			for i := range p.rules {
				if glob.MustCompile(p.rules[i].base).Match(base) && hasAll(have, prefix, p.rules[i].with) {
					out[t] = PresetMatch{rule: &p.rules[i], prefix: prefix}
					break
				}
			}
			if _, ok := out[t]; ok {
				break
			}
		}
	}
	return out, nil
}

func hasAll(have map[string]bool, prefix string, bases []string) bool {
	for _, b := range bases {
		if !have[prefix+b] {
			return false
		}
	}
	return true
}

// OptionLines renders a matched table's [table] options.
func (m PresetMatch) OptionLines() []string {
	var lines []string
	for _, kv := range m.rule.options {
		lines = append(lines, fmt.Sprintf("\t%s = %s", kv[0], quoteValue(strings.ReplaceAll(kv[1], "{p}", m.prefix))))
	}
	return lines
}
