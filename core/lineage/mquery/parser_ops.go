package mquery

// Binary operator levels, loosest first. `??` binds loosest, as in the Power Query
// implementation; the rest follow the specification's grammar:
//
//	0 or, 1 and, 2 is, 3 as, 4 = <>, 5 < > <= >=, 6 + - &, 7 * /, 8 meta
const binaryLevelCount = 9

// binaryLevel returns the level of the binary operator t, or -1.
func binaryLevel(t *Token) int {
	switch t.Kind {
	case TokPunct:
		switch t.Text {
		case "=", "<>":
			return 4
		case "<", ">", "<=", ">=":
			return 5
		case "+", "-", "&":
			return 6
		case "*", "/":
			return 7
		}
	case TokKeyword:
		switch t.Text {
		case "or":
			return 0
		case "and":
			return 1
		case "is":
			return 2
		case "as":
			return 3
		case "meta":
			return 8
		}
	}
	return -1
}

func (p *parser) coalesce() (Expr, error) {
	left, err := p.binary()
	if err != nil {
		return nil, err
	}
	if p.isPunct("??") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		// Right-associative: a ?? b ?? c is a ?? (b ?? c); the right side may be
		// any expression (each, let, if, ...).
		right, err := p.expr()
		if err != nil {
			return nil, err
		}
		return newNode(&p.nodes.binaries, Binary{At: t.Pos, Op: "??", Left: left, Right: right}), nil
	}
	return left, nil
}

// binary parses a chain of binary operators by precedence climbing. The grammar is
// one rule per level (or-expression, and-expression, ... metadata-expression), and
// the depth limit counts those rules: every operand is parsed as if nested in all
// nine, so deep input fails at the same depth and token as a rule-per-level parser.
func (p *parser) binary() (Expr, error) {
	return p.binaryFrom(0)
}

// binaryFrom parses an expression of the operators at levels from and tighter.
func (p *parser) binaryFrom(from int) (Expr, error) {
	left, err := p.operand(from)
	if err != nil {
		return nil, err
	}
	// upTo is the loosest level the chain may still take after each operator: an
	// operator at level L ends the chains of tighter levels (x as number * 2 stops
	// at the *).
	upTo := binaryLevelCount - 1
	for {
		t := p.tok()
		level := binaryLevel(t)
		if level < from || level > upTo {
			return left, nil
		}
		upTo = level
		p.next()
		var right Expr
		if level == 2 || level == 3 { // is, as: a type follows
			at := p.tok().Pos
			typ, err := p.nullablePrimitive()
			if err != nil {
				return nil, err
			}
			right = &TypeExpr{At: at, Type: typ}
		} else {
			d := p.depth
			p.depth += level - from + 1 // inside the rules for levels from..level
			right, err = p.binaryFrom(level + 1)
			p.depth = d
			if err != nil {
				return nil, err
			}
		}
		left = newNode(&p.nodes.binaries, Binary{At: t.Pos, Op: t.Text, Left: left, Right: right})
	}
}

// operand parses a unary expression as the rules for levels from..8 would reach it,
// at their nesting depth.
func (p *parser) operand(from int) (Expr, error) {
	d := p.depth
	p.depth += binaryLevelCount - from
	if p.depth > MaxDepth {
		p.depth = d
		return nil, p.errf(p.tok(), "expression nested deeper than %d levels", MaxDepth)
	}
	x, err := p.unary()
	p.depth = d
	return x, err
}

func (p *parser) unary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	x, err := p.unaryNested()
	p.leave()
	return x, err
}

// unaryNested is unary within its nesting level, which unary leaves without a defer (a
// deferred call in a function of many returns is not open-coded, and costs).
func (p *parser) unaryNested() (Expr, error) {
	t := p.tok()
	if t.Kind == TokPunct && (t.Text == "+" || t.Text == "-") || t.Kind == TokKeyword && t.Text == "not" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{At: t.Pos, Op: t.Text, X: x}, nil
	}
	if t.Kind == TokKeyword && t.Text == "type" {
		p.next()
		typ, err := p.typ()
		if err != nil {
			return nil, err
		}
		return &TypeExpr{At: t.Pos, Type: typ}, nil
	}
	return p.postfix()
}

// postfix parses a primary expression followed by calls, item and field access.
func (p *parser) postfix() (Expr, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		if t.Kind != TokPunct {
			return e, nil
		}
		switch t.Text {
		case "(":
			p.next()
			args, err := p.exprList(")")
			if err != nil {
				return nil, err
			}
			e = newNode(&p.nodes.calls, Call{At: e.Start(), Func: e, Args: args})
		case "{":
			p.next()
			sel, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, "}"); err != nil {
				return nil, err
			}
			ia := newNode(&p.nodes.items, ItemAccess{At: e.Start(), Target: e, Selector: sel})
			if p.isPunct("?") {
				p.next()
				ia.Optional = true
			}
			e = ia
		case "[":
			sel, err := p.fieldSelector(e)
			if err != nil {
				return nil, err
			}
			e = sel
		default:
			return e, nil
		}
	}
}

// fieldSelector parses `[name]`, `[name]?`, `[[a],[b]]` or `[[a],[b]]?` applied to
// target (nil for the implicit forms).
func (p *parser) fieldSelector(target Expr) (Expr, error) {
	open := p.next()
	at := open.Pos
	if target != nil {
		at = target.Start()
	}
	if p.isPunct("[") {
		pr := &Projection{At: at, Target: target}
		for {
			if _, err := p.expect(TokPunct, "["); err != nil {
				return nil, err
			}
			name, err := p.fieldName()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, "]"); err != nil {
				return nil, err
			}
			pr.Fields = append(pr.Fields, name)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		if _, err := p.expect(TokPunct, "]"); err != nil {
			return nil, err
		}
		if p.isPunct("?") {
			p.next()
			pr.Optional = true
		}
		return pr, nil
	}
	name, err := p.fieldName()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(TokPunct, "]"); err != nil {
		return nil, err
	}
	fa := newNode(&p.nodes.fields, FieldAccess{At: at, Target: target, Field: name})
	if p.isPunct("?") {
		p.next()
		fa.Optional = true
	}
	return fa, nil
}

func (p *parser) exprList(closer string) ([]Expr, error) {
	mark := len(p.buf.exprs)
	defer pop(&p.buf.exprs, mark)
	for !p.isPunct(closer) {
		if len(p.buf.exprs) > mark {
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if closer == "}" && p.isPunct("..") {
			p.next()
			to, err := p.expr()
			if err != nil {
				return nil, err
			}
			e = &Range{From: e, To: to}
		}
		p.buf.exprs = append(p.buf.exprs, e)
	}
	p.next()
	return collect(&p.buf.exprs, mark), nil
}

func (p *parser) primary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	x, err := p.primaryNested()
	p.leave()
	return x, err
}

// primaryNested is primary within its nesting level, which primary leaves without a defer (a
// deferred call in a function of many returns is not open-coded, and costs).
func (p *parser) primaryNested() (Expr, error) {
	t := p.tok()
	switch t.Kind {
	case TokEOF:
		return nil, p.errf(t, "unexpected end of input, expected an expression")
	case TokText, TokVerbatim:
		p.next()
		return newNode(&p.nodes.literals, Literal{At: t.Pos, Kind: LitText, Value: t.Text}), nil
	case TokNumber:
		p.next()
		return newNode(&p.nodes.literals, Literal{At: t.Pos, Kind: LitNumber, Value: t.Text}), nil
	case TokIdent, TokQuotedIdent:
		p.next()
		if p.isPunct("!") && t.Kind == TokIdent {
			p.next()
			m, err := p.identifier()
			if err != nil {
				return nil, err
			}
			return &SectionAccess{At: t.Pos, Section: t.Text, Member: m.Text}, nil
		}
		return newNode(&p.nodes.idents, Ident{At: t.Pos, Name: t.Text}), nil
	case TokKeyword:
		switch t.Text {
		case "true", "false":
			p.next()
			return newNode(&p.nodes.literals, Literal{At: t.Pos, Kind: LitLogical, Value: t.Text}), nil
		case "null":
			p.next()
			return newNode(&p.nodes.literals, Literal{At: t.Pos, Kind: LitNull, Value: "null"}), nil
		case "#infinity", "#nan":
			p.next()
			return newNode(&p.nodes.literals, Literal{At: t.Pos, Kind: LitNumber, Value: t.Text}), nil
		case "#binary", "#date", "#datetime", "#datetimezone", "#duration", "#time", "#table", "#shared", "#sections":
			p.next()
			return newNode(&p.nodes.idents, Ident{At: t.Pos, Name: t.Text}), nil
		}
	case TokPunct:
		switch t.Text {
		case "@":
			p.next()
			id, err := p.identifier()
			if err != nil {
				return nil, err
			}
			return newNode(&p.nodes.idents, Ident{At: t.Pos, Name: id.Text, Inclusive: true}), nil
		case "(":
			p.next()
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, ")"); err != nil {
				return nil, err
			}
			return e, nil
		case "{":
			p.next()
			items, err := p.exprList("}")
			if err != nil {
				return nil, err
			}
			return &List{At: t.Pos, Items: items}, nil
		case "[":
			if p.isRecord() {
				return p.record()
			}
			return p.fieldSelector(nil)
		case "...":
			p.next()
			return &NotImplemented{At: t.Pos}, nil
		}
	}
	return nil, p.errf(t, "unexpected %s, expected an expression", t)
}

// isRecord tells a record `[a = 1]` or `[]` from an implicit field access `[a]`
// or projection `[[a]]`: a record's first field name is followed by `=`.
func (p *parser) isRecord() bool { return isRecordAt(p.toks, p.i) }

// isRecordAt is isRecord for the `[` at toks[i].
func isRecordAt(toks []Token, i int) bool {
	j := i + 1
	if j >= len(toks) {
		return false
	}
	t := toks[j]
	if t.Kind == TokPunct && t.Text == "]" {
		return true
	}
	if t.Kind == TokQuotedIdent {
		j++
	} else {
		for j < len(toks) && isWordToken(&toks[j]) {
			j++
		}
	}
	return j < len(toks) && toks[j].Kind == TokPunct && toks[j].Text == "="
}

func (p *parser) record() (Expr, error) {
	r := newNode(&p.nodes.records, Record{At: p.next().Pos})
	mark := len(p.buf.fields)
	defer pop(&p.buf.fields, mark)
	for !p.isPunct("]") {
		if len(p.buf.fields) > mark {
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		at := p.tok().Pos
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokPunct, "="); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		p.buf.fields = append(p.buf.fields, Field{At: at, Name: name, Value: v})
	}
	r.Fields = collect(&p.buf.fields, mark)
	p.next()
	return r, nil
}
