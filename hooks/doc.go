// Package hooks installs, upgrades, chains and uninstalls the git hooks of
// git dbsync (pre-commit re-export; post-merge and post-checkout merge into
// the development database). Contract: a hook it did not write is never
// clobbered, and uninstall restores exactly the bytes that were there. It
// imports nothing from the rest of the project.
//
// The hooks themselves arrive with the hooks issue; this package marks
// their place in the layout.
package hooks
