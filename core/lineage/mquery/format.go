package mquery

import (
	"strconv"
	"strings"
)

// Sexpr renders an expression as a compact S-expression, showing the tree's shape
// (grouping, precedence) for tests and debugging.
func Sexpr(e Expr) string {
	var b strings.Builder
	writeSexpr(&b, e)
	return b.String()
}

func writeSexpr(b *strings.Builder, e Expr) {
	w := func(parts ...any) {
		b.WriteByte('(')
		for i, p := range parts {
			if i > 0 {
				b.WriteByte(' ')
			}
			switch v := p.(type) {
			case string:
				b.WriteString(v)
			case Expr:
				writeSexpr(b, v)
			case []Expr:
				for j, x := range v {
					if j > 0 {
						b.WriteByte(' ')
					}
					writeSexpr(b, x)
				}
			case Type:
				writeType(b, v)
			}
		}
		b.WriteByte(')')
	}
	switch n := e.(type) {
	case nil:
		b.WriteString("nil")
	case *Ident:
		if n.Inclusive {
			b.WriteByte('@')
		}
		b.WriteString(n.Name)
	case *Literal:
		if n.Kind == LitText {
			b.WriteString(strconv.Quote(n.Value))
		} else {
			b.WriteString(n.Value)
		}
	case *List:
		w(append([]any{"list"}, anyExprs(n.Items)...)...)
	case *Range:
		w("range", n.From, n.To)
	case *Record:
		parts := []any{"record"}
		for _, f := range n.Fields {
			parts = append(parts, strconv.Quote(f.Name), f.Value)
		}
		w(parts...)
	case *FieldAccess:
		op := "field"
		if n.Optional {
			op = "field?"
		}
		if n.Target == nil {
			w(op, "_", strconv.Quote(n.Field))
			return
		}
		w(op, n.Target, strconv.Quote(n.Field))
	case *Projection:
		if n.Target == nil {
			w("project", "_", strings.Join(n.Fields, ","))
			return
		}
		w("project", n.Target, strings.Join(n.Fields, ","))
	case *ItemAccess:
		op := "item"
		if n.Optional {
			op = "item?"
		}
		w(op, n.Target, n.Selector)
	case *Call:
		w(append([]any{"call", n.Func}, anyExprs(n.Args)...)...)
	case *Function:
		var ps []string
		for _, p := range n.Params {
			s := p.Name
			if p.Optional {
				s = "optional " + s
			}
			ps = append(ps, s)
		}
		w("fn", "["+strings.Join(ps, ",")+"]", n.Body)
	case *Each:
		w("each", n.Body)
	case *Let:
		parts := []any{"let"}
		for _, bd := range n.Bindings {
			parts = append(parts, strconv.Quote(bd.Name), bd.Value)
		}
		w(append(parts, n.Body)...)
	case *If:
		w("if", n.Cond, n.Then, n.Else)
	case *Try:
		switch {
		case n.Otherwise != nil:
			w("try", n.Body, "otherwise", n.Otherwise)
		case n.Catch != nil:
			w("try", n.Body, "catch", Expr(n.Catch))
		default:
			w("try", n.Body)
		}
	case *ErrorExpr:
		w("error", n.Value)
	case *Binary:
		w(n.Op, n.Left, n.Right)
	case *Unary:
		w(n.Op, n.X)
	case *NotImplemented:
		b.WriteString("...")
	case *SectionAccess:
		b.WriteString(n.Section + "!" + n.Member)
	case *TypeExpr:
		w("type", n.Type)
	}
}

func anyExprs(xs []Expr) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func writeType(b *strings.Builder, t Type) {
	switch v := t.(type) {
	case PrimitiveType:
		if v.Nullable {
			b.WriteString("nullable ")
		}
		b.WriteString(v.Name)
	case NullableType:
		b.WriteString("nullable ")
		writeType(b, v.Inner)
	case RecordType:
		b.WriteByte('[')
		for i, f := range v.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			if f.Optional {
				b.WriteString("optional ")
			}
			b.WriteString(f.Name)
			if f.Type != nil {
				b.WriteByte('=')
				writeType(b, f.Type)
			}
		}
		if v.Open {
			b.WriteString(",...")
		}
		b.WriteByte(']')
	case ListType:
		b.WriteByte('{')
		writeType(b, v.Item)
		b.WriteByte('}')
	case FunctionType:
		b.WriteString("function(")
		for i, p := range v.Params {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.Name)
		}
		b.WriteString(")->")
		writeType(b, v.Return)
	case TableType:
		b.WriteString("table ")
		writeType(b, v.Row)
	case ExprType:
		writeSexpr(b, v.X)
	}
}
