package dbtest

// PasswordForms are the forms a database URL or connection string takes in .dbsync, git
// config, the environment and engines' errors; each holds the password
// (or a user name that is a token) s3cr3t, sometimes with characters that defeat a naive redaction.
var PasswordForms = []string{
	"postgres://u:s3cr3t@127.0.0.1:1/db",
	"postgresql://u:s3cr3t@127.0.0.1:1/db?sslmode=disable",
	"postgres://u:s3cr3t@x@127.0.0.1:1/db",
	"postgres://u:s3cr3t%40x@127.0.0.1:1/db",
	"postgres://u@127.0.0.1:1/db?password=s3cr3t",
	"postgres://127.0.0.1:1/db?user=u&password=s3cr3t&sslmode=disable",
	"postgres://u:s3cr3t@127.0.0.1:99999/db",
	"postgres://u:s3cr3t@127.0.0.1:1/db%zz",
	"host=127.0.0.1 port=1 user=u password=s3cr3t dbname=db",
	"postgres://u:s3cr3t@127.0.0.1:1/db?connect_timeout=1&sslpassword=s3cr3t",
	"postgres:///db?host=127.0.0.1&port=1&password=s3cr3t",
	"mysql://u:s3cr3t@127.0.0.1:1/db",
	"mysql://u:s3cr3t@x@127.0.0.1:1/db",
	"mysql://u:s3cr3t@127.0.0.1:99999/db",
	"mysql://u:s3cr3t@127.0.0.1:1/db?tls=bogus",
	"mysql://u@127.0.0.1:1/db?password=s3cr3t",
	"u:s3cr3t@tcp(127.0.0.1:1)/db",
	"host=127.0.0.1 password='s3cr3t and more' dbname=db",
	"postgres://u:s3cr3t@[::1]:1/db",
	"mysql://u:s3cr3t@127.0.0.1:1/db%",
	"postgres://s3cr3t@127.0.0.1:1/db",    // a token as the user name
	"sqlite://s3cr3t@/nonexistent/dev.db", // a SQLite URL has no user: refused, unprinted
}
