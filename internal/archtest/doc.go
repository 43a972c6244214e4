// Package archtest holds the test that keeps the packages importing each
// other in the directions ARCHITECTURE.md draws.
package archtest
