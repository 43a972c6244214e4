package mysql

import (
	"context"
	"strings"
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
