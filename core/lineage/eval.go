package lineage

import (
	"strconv"
	"strings"

	"github.com/pbisync/pbisync/core/lineage/mquery"
)

type exprBody = mquery.Expr

// Limits on one table's evaluation, so a hostile or pathological model cannot hang
// a sync.
const (
	maxSteps     = 200_000
	maxCallDepth = 64
)

// thunk is a lazily evaluated binding: let variables, shared expressions, record
// fields in scope of a section.
type thunk struct {
	expr  mquery.Expr
	env   *env
	val   value
	state uint8 // 0 unevaluated, 1 evaluating, 2 done
	// fixed is set for bindings whose value is known up front (function arguments).
	fixed bool
}

// env is a scope: the model's global names in vars, or the bindings of a let or
// the parameters of a function call, whose thunks are slots (names from letNames
// or argNames, the later of two equal names winning, as in a map).
type env struct {
	parent *env
	vars   map[string]*thunk
	// params are the model's parameters by lower-cased name (nil when two differ
	// only in case), at the global level only.
	params   map[string]*thunk
	letNames []mquery.Binding
	argNames []string
	slots    []thunk
}

// envIndexAt is the number of names from which a local scope is indexed by a map.
const envIndexAt = 32

func (e *env) lookup(name string) (*thunk, bool) {
	for ; e != nil; e = e.parent {
		if e.vars != nil {
			if t, ok := e.vars[name]; ok {
				return t, true
			}
			continue
		}
		for i := len(e.letNames) - 1; i >= 0; i-- {
			if e.letNames[i].Name == name {
				return &e.slots[i], true
			}
		}
		for i := len(e.argNames) - 1; i >= 0; i-- {
			if e.argNames[i] == name {
				return &e.slots[i], true
			}
		}
	}
	return nil, false
}

// scope1 and scope4 are a scope and its slots in one allocation, for the common
// each function and let of a few steps.
type (
	scope1 struct {
		env   env
		slots [1]thunk
	}
	scope4 struct {
		env   env
		slots [4]thunk
	}
)

// newScope returns a scope with n slots.
func newScope(parent *env, n int) *env {
	switch {
	case n == 0:
		return &env{parent: parent}
	case n == 1:
		s := &scope1{}
		s.env = env{parent: parent, slots: s.slots[:]}
		return &s.env
	case n <= 4:
		s := &scope4{}
		s.env = env{parent: parent, slots: s.slots[:n]}
		return &s.env
	}
	return &env{parent: parent, slots: make([]thunk, n)}
}

// letEnv is the scope of a let's bindings.
func letEnv(parent *env, bindings []mquery.Binding) *env {
	e := newScope(parent, len(bindings))
	e.letNames = bindings
	for i, b := range bindings {
		e.slots[i] = thunk{expr: b.Value, env: e}
	}
	if len(bindings) >= envIndexAt {
		e.vars = make(map[string]*thunk, len(bindings))
		for i, b := range bindings {
			e.vars[b.Name] = &e.slots[i]
		}
	}
	return e
}

// callEnv is the scope of a function call: params bound to args, null when missing.
func callEnv(parent *env, params []string, args []value) *env {
	e := newScope(parent, len(params))
	e.argNames = params
	for i := range params {
		var v value = nullV{}
		if i < len(args) {
			v = args[i]
		}
		e.slots[i] = thunk{val: v, state: 2, fixed: true}
	}
	if len(params) >= envIndexAt {
		e.vars = make(map[string]*thunk, len(params))
		for i, p := range params {
			e.vars[p] = &e.slots[i]
		}
	}
	return e
}

// eachParams are the parameters of an each function.
var eachParams = []string{"_"}

type evaluator struct {
	steps int
	depth int
}

func (ev *evaluator) force(t *thunk) value {
	switch t.state {
	case 2:
		return t.val
	case 1:
		return unknown(ReasonCycle)
	}
	t.state = 1
	v := ev.eval(t.expr, t.env)
	// A budget exhausted while evaluating a shared thunk must not be cached as
	// its value for the next table.
	if u, ok := v.(unknownV); ok && u.reason == ReasonTooComplex {
		t.state = 0
		return v
	}
	t.val, t.state = v, 2
	return v
}

func (ev *evaluator) eval(x mquery.Expr, e *env) value {
	ev.steps++
	if ev.steps > maxSteps {
		return unknown(ReasonTooComplex)
	}
	switch n := x.(type) {
	case *mquery.Literal:
		switch n.Kind {
		case mquery.LitText:
			return textV(n.Value)
		case mquery.LitLogical:
			return logicalV(n.Value == "true")
		case mquery.LitNull:
			return nullV{}
		default:
			return parseNumber(n.Value)
		}
	case *mquery.Ident:
		return ev.ident(n.Name, e)
	case *mquery.SectionAccess:
		return ev.ident(n.Member, e)
	case *mquery.List:
		out := make(listV, 0, len(n.Items))
		for _, item := range n.Items {
			if r, ok := item.(*mquery.Range); ok {
				out = append(out, ev.eval(r.From, e), ev.eval(r.To, e))
				continue
			}
			out = append(out, ev.eval(item, e))
		}
		return out
	case *mquery.Record:
		r := newRecord(len(n.Fields))
		for _, f := range n.Fields {
			r.set(f.Name, ev.eval(f.Value, e))
		}
		return r
	case *mquery.FieldAccess:
		var target value
		if n.Target == nil {
			target = ev.ident("_", e)
		} else {
			target = ev.eval(n.Target, e)
		}
		return ev.field(target, n.Field, n.Optional)
	case *mquery.Projection:
		if n.Target == nil {
			return ev.ident("_", e)
		}
		return ev.eval(n.Target, e)
	case *mquery.ItemAccess:
		return ev.item(ev.eval(n.Target, e), ev.eval(n.Selector, e))
	case *mquery.Call:
		fn := ev.eval(n.Func, e)
		args := make([]value, len(n.Args))
		for i, a := range n.Args {
			args[i] = ev.eval(a, e)
		}
		return ev.call(fn, args)
	case *mquery.Function:
		names := make([]string, len(n.Params))
		for i, p := range n.Params {
			names[i] = p.Name
		}
		return funcV{params: names, body: n.Body, env: e}
	case *mquery.Each:
		return funcV{params: eachParams, body: n.Body, env: e}
	case *mquery.Let:
		return ev.eval(n.Body, letEnv(e, n.Bindings))
	case *mquery.If:
		switch c := ev.eval(n.Cond, e).(type) {
		case logicalV:
			if c {
				return ev.eval(n.Then, e)
			}
			return ev.eval(n.Else, e)
		default:
			// Undecidable: the table may come from either branch.
			return either(ev.eval(n.Then, e), ev.eval(n.Else, e))
		}
	case *mquery.Try:
		v := ev.eval(n.Body, e)
		if _, isErr := v.(errV); isErr && n.Otherwise != nil {
			return ev.eval(n.Otherwise, e)
		}
		return v
	case *mquery.ErrorExpr, *mquery.NotImplemented:
		return errV{}
	case *mquery.Binary:
		return ev.binary(n, e)
	case *mquery.Unary:
		v := ev.eval(n.X, e)
		switch n.Op {
		case "not":
			if b, ok := v.(logicalV); ok {
				return !b
			}
		case "-":
			if f, ok := v.(numberV); ok {
				return -f
			}
		case "+":
			return v
		}
		return opaqueOrUnknown(v)
	case *mquery.TypeExpr:
		return opaqueV{}
	}
	return opaqueV{}
}

func (ev *evaluator) ident(name string, e *env) value {
	if t, ok := e.lookup(name); ok {
		if t.fixed {
			return t.val
		}
		return ev.force(t)
	}
	if strings.Contains(name, ".") || strings.HasPrefix(name, "#") {
		return builtinV(name)
	}
	if t := lookupFold(e, name); t != nil {
		return ev.force(t)
	}
	return unknown(ReasonUnknownReference + ":" + name)
}

// lookupFold finds a parameter (a shared expression with IsParameterQuery) whose
// name differs from name only in case, when exactly one does.
func lookupFold(e *env, name string) *thunk {
	for ; e.parent != nil; e = e.parent {
	}
	if e.params == nil {
		return nil
	}
	return e.params[strings.ToLower(name)]
}

// either is the value of an undecidable choice between a and b.
func either(a, b value) value {
	if _, ok := a.(errV); ok {
		return b
	}
	if _, ok := b.(errV); ok {
		return a
	}
	if isOpenSource(a) && isOpenSource(b) {
		// Two connectors or navigation points: the steps after the choice apply
		// to each.
		return choiceV{a, b}
	}
	if hasData(a) || hasData(b) {
		return mergeData(a, b)
	}
	return unknown(ReasonDynamicValue)
}

// isOpenSource reports whether v is a source not navigated to a table yet.
func isOpenSource(v value) bool {
	switch x := v.(type) {
	case navV:
		return x.table == "" || x.row
	case queryFnV, choiceV:
		return true
	}
	return false
}

// overChoice applies f to each alternative of a choice and joins the results.
func overChoice(c choiceV, f func(value) value) value {
	out := f(c[0])
	for _, alt := range c[1:] {
		out = either(out, f(alt))
	}
	return out
}

func opaqueOrUnknown(v value) value {
	switch x := v.(type) {
	case unknownV:
		return x
	case dataV:
		return x
	}
	return opaqueV{}
}

func parseNumber(s string) value {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		n, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return opaqueV{}
		}
		return numberV(n)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return opaqueV{}
	}
	return numberV(f)
}

func (ev *evaluator) field(target value, name string, optional bool) value {
	switch t := target.(type) {
	case choiceV:
		return overChoice(t, func(v value) value { return ev.field(v, name, optional) })
	case *recordV:
		if v, ok := t.get(name); ok {
			return v
		}
		if optional {
			return nullV{}
		}
		return errV{}
	case navV:
		if t.table != "" {
			return t.data()
		}
		if t.row && name == "Data" {
			t.row = false
			return t
		}
		return unknown(ReasonDynamicValue)
	case dataV, unknownV, errV:
		return t
	case nullV:
		if optional {
			return nullV{}
		}
		return errV{}
	}
	return unknown(ReasonDynamicValue)
}

func (ev *evaluator) item(target, sel value) value {
	switch t := target.(type) {
	case choiceV:
		return overChoice(t, func(v value) value { return ev.item(v, sel) })
	case listV:
		if n, ok := sel.(numberV); ok {
			i := int(n)
			if float64(i) == float64(n) && i >= 0 && i < len(t) {
				return t[i]
			}
			return errV{}
		}
		return unknown(ReasonDynamicValue)
	case navV:
		if t.table != "" {
			return t.data()
		}
		r, ok := sel.(*recordV)
		if !ok {
			// Source{0}: which database comes first is only known at refresh time.
			return dynamicSource(nil)
		}
		return t.navigate(r)
	case dataV, unknownV, errV:
		return t
	}
	return unknown(ReasonDynamicValue)
}

func (ev *evaluator) call(fn value, args []value) value {
	switch f := fn.(type) {
	case builtinV:
		return ev.builtin(string(f), args)
	case funcV:
		if ev.depth >= maxCallDepth {
			return unknown(ReasonTooComplex)
		}
		ev.depth++
		defer func() { ev.depth-- }()
		return ev.eval(f.body, callEnv(f.env, f.params, args))
	case queryFnV:
		if len(args) == 0 {
			return unknown(ReasonDynamicValue)
		}
		return nativeQuery(f.ctx, args[0])
	case choiceV:
		return overChoice(f, func(v value) value { return ev.call(v, args) })
	case unknownV, errV, dataV:
		return f
	}
	return unknown(ReasonDynamicValue)
}

func (ev *evaluator) binary(n *mquery.Binary, e *env) value {
	l := ev.eval(n.Left, e)
	switch n.Op {
	case "meta":
		return l // parameters: "value" meta [IsParameterQuery=true]
	case "as", "is":
		if n.Op == "as" {
			return l
		}
		return opaqueV{}
	case "??":
		if _, isNull := l.(nullV); isNull {
			return ev.eval(n.Right, e)
		}
		return l
	case "and", "or":
		lb, ok := l.(logicalV)
		if ok && (n.Op == "and" && !bool(lb) || n.Op == "or" && bool(lb)) {
			return lb
		}
		r := ev.eval(n.Right, e)
		if rb, ok2 := r.(logicalV); ok && ok2 {
			return rb
		}
		return unknown(ReasonDynamicValue)
	}
	r := ev.eval(n.Right, e)
	switch n.Op {
	case "&":
		if lt, ok := textPart(l); ok {
			if rt, ok := textPart(r); ok {
				_, lText := l.(textV)
				_, rText := r.(textV)
				if lText && rText {
					return textV(lt + rt)
				}
				return partialTextV(lt + rt)
			}
		}
		switch lv := l.(type) {
		case listV:
			if rv, ok := r.(listV); ok {
				return append(append(listV{}, lv...), rv...)
			}
		case *recordV:
			if rv, ok := r.(*recordV); ok {
				out := newRecord(len(lv.fields) + len(rv.fields))
				for _, f := range lv.fields {
					out.set(f.name, f.val)
				}
				for _, f := range rv.fields {
					out.set(f.name, f.val)
				}
				return out
			}
		}
	case "=", "<>":
		if eq, ok := constEqual(l, r); ok {
			return logicalV(eq == (n.Op == "="))
		}
	case "+", "-", "*", "/":
		lf, ok1 := l.(numberV)
		rf, ok2 := r.(numberV)
		if ok1 && ok2 {
			switch n.Op {
			case "+":
				return lf + rf
			case "-":
				return lf - rf
			case "*":
				return lf * rf
			default:
				if rf != 0 {
					return lf / rf
				}
				return opaqueV{}
			}
		}
	case "<", ">", "<=", ">=":
		lf, ok1 := l.(numberV)
		rf, ok2 := r.(numberV)
		if ok1 && ok2 {
			switch n.Op {
			case "<":
				return logicalV(lf < rf)
			case ">":
				return logicalV(lf > rf)
			case "<=":
				return logicalV(lf <= rf)
			default:
				return logicalV(lf >= rf)
			}
		}
	}
	if hasSource(l) || hasSource(r) {
		return mergeData(l, r)
	}
	if isConst(l) && isConst(r) {
		return opaqueV{}
	}
	if u, ok := l.(unknownV); ok {
		return u
	}
	if u, ok := r.(unknownV); ok {
		return u
	}
	return unknown(ReasonDynamicValue)
}

// holeText stands in for an unknown part of a text. In SQL it lexes as part of an
// identifier, so a table name built around a hole is recognised and dropped.
const holeText = "__pbisync_hole__"

// textPart returns v's text for concatenation: text, partial text, or a hole for a
// constant the evaluator does not model.
func textPart(v value) (string, bool) {
	switch t := v.(type) {
	case textV:
		return string(t), true
	case partialTextV:
		return string(t), true
	case opaqueV:
		return holeText, true
	}
	return "", false
}

func isConst(v value) bool {
	switch v.(type) {
	case textV, numberV, logicalV, nullV, opaqueV, partialTextV:
		return true
	}
	return false
}

func constEqual(a, b value) (bool, bool) {
	switch x := a.(type) {
	case textV:
		y, ok := b.(textV)
		if ok {
			return x == y, true
		}
	case numberV:
		y, ok := b.(numberV)
		if ok {
			return x == y, true
		}
	case logicalV:
		y, ok := b.(logicalV)
		if ok {
			return x == y, true
		}
	case nullV:
		_, ok := b.(nullV)
		if isConst(b) {
			return ok, true
		}
	}
	if _, ok := b.(nullV); ok && isConst(a) {
		return false, true
	}
	return false, false
}
