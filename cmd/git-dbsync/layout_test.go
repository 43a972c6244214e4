package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every command does its work in a run<Verb> function of its own, which
// its cobra RunE only calls once the arguments are in its options
// (STYLE.md): no command's work lives inline in RunE.
func TestEveryCommandHasItsRun(t *testing.T) {
	files, err := filepath.Glob("cmd_*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cmd_*.go: %v", err)
	}
	fset := token.NewFileSet()
	commands := 0
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if key, ok := kv.Key.(*ast.Ident); !ok || key.Name != "RunE" {
				return true
			}
			commands++
			pos := fset.Position(kv.Pos())
			fn, ok := kv.Value.(*ast.FuncLit)
			if !ok {
				t.Errorf("%s: RunE is not a function literal calling a run function", pos)
				return true
			}
			list := fn.Body.List
			var call *ast.CallExpr
			if len(list) > 0 {
				if ret, ok := list[len(list)-1].(*ast.ReturnStmt); ok && len(ret.Results) == 1 {
					call, _ = ret.Results[0].(*ast.CallExpr)
				}
			}
			var id *ast.Ident
			if call != nil {
				id, _ = call.Fun.(*ast.Ident)
			}
			if id == nil || !strings.HasPrefix(id.Name, "run") {
				t.Errorf("%s: RunE does not end by returning a run<Verb>(…) call: the command's work belongs in one", pos)
			}
			for _, st := range list[:max(len(list)-1, 0)] {
				if _, ok := st.(*ast.ReturnStmt); ok {
					t.Errorf("%s: RunE returns before calling its run function: the command's work belongs there", fset.Position(st.Pos()))
				}
			}
			return true
		})
	}
	if commands < 15 {
		t.Fatalf("found %d commands", commands)
	}
}
