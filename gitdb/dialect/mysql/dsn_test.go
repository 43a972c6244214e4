package mysql

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestDSNForms(t *testing.T) {
	for _, u := range []string{"mysql://app:p%40ss@db.example:3307/shop?sql_safe_updates=0", "mysql://app:p@ss@tcp(db.example:3307)/shop?sql_safe_updates=0"} {
		cfg, err := DSN(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if cfg.User != "app" || cfg.Passwd != "p@ss" || cfg.Addr != "db.example:3307" || cfg.DBName != "shop" || cfg.Params["sql_safe_updates"] != "0" ||
			!cfg.ClientFoundRows || cfg.Params["time_zone"] != "'+00:00'" {
			t.Errorf("%s: %+v", u, cfg)
		}
	}
	if cfg, _ := DSN("mysql://root@localhost/test"); cfg.Addr != "localhost:3306" {
		t.Errorf("default port: %s", cfg.Addr)
	}
	if _, err := DSN("mysql://root@localhost"); err == nil {
		t.Error("a URL without a database was accepted")
	}
	_, err := Open(context.Background(), "mysql://root:s3cret@127.0.0.1:1/nodb?timeout=1s", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}

// A server that closes the connection before MySQL's greeting (another
// kind of server on the port) is named as such, and the driver writes
// nothing to stderr of its own.
func TestOpenOtherServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// The driver's logger holds file descriptor 2 itself: catch that.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Dup2(int(w.Fd()), 2)
	_, err = Open(context.Background(), "mysql://root@"+l.Addr().String()+"/test", "")
	syscall.Dup2(saved, 2)
	syscall.Close(saved)
	w.Close()
	logged, _ := io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "did not answer as MySQL or MariaDB does (is it the right port?)") {
		t.Errorf("Open: %v", err)
	}
	if len(logged) > 0 {
		t.Errorf("the driver wrote to stderr: %s", logged)
	}
}
