package mquery

// Binary operator levels, loosest first. `??` binds loosest, as in the Power Query
// implementation; the rest follow the specification's grammar.
var binaryLevels = [][]string{
	{"or"},
	{"and"},
	{"is"},
	{"as"},
	{"=", "<>"},
	{"<", ">", "<=", ">="},
	{"+", "-", "&"},
	{"*", "/"},
	{"meta"},
}

func (p *parser) coalesce() (Expr, error) {
	left, err := p.binary(0)
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
		return &Binary{At: t.Pos, Op: "??", Left: left, Right: right}, nil
	}
	return left, nil
}

func (p *parser) opAt(level int) (Token, bool) {
	t := p.tok()
	if t.Kind != TokPunct && t.Kind != TokKeyword {
		return t, false
	}
	for _, op := range binaryLevels[level] {
		if t.Text == op {
			return t, true
		}
	}
	return t, false
}

// binary parses a left-associative chain of the operators at level and tighter.
func (p *parser) binary(level int) (Expr, error) {
	if level == len(binaryLevels) {
		return p.unary()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.opAt(level)
		if !ok {
			return left, nil
		}
		p.next()
		var right Expr
		if t.Text == "as" || t.Text == "is" {
			at := p.tok().Pos
			typ, err := p.nullablePrimitive()
			if err != nil {
				return nil, err
			}
			right = &TypeExpr{At: at, Type: typ}
		} else if right, err = p.binary(level + 1); err != nil {
			return nil, err
		}
		left = &Binary{At: t.Pos, Op: t.Text, Left: left, Right: right}
	}
}

func (p *parser) unary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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
			e = &Call{At: e.Start(), Func: e, Args: args}
		case "{":
			p.next()
			sel, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, "}"); err != nil {
				return nil, err
			}
			ia := &ItemAccess{At: e.Start(), Target: e, Selector: sel}
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
	fa := &FieldAccess{At: at, Target: target, Field: name}
	if p.isPunct("?") {
		p.next()
		fa.Optional = true
	}
	return fa, nil
}

func (p *parser) exprList(closer string) ([]Expr, error) {
	var out []Expr
	for !p.isPunct(closer) {
		if len(out) > 0 {
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
		out = append(out, e)
	}
	p.next()
	return out, nil
}

func (p *parser) primary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.tok()
	switch t.Kind {
	case TokEOF:
		return nil, p.errf(t, "unexpected end of input, expected an expression")
	case TokText, TokVerbatim:
		p.next()
		return &Literal{At: t.Pos, Kind: LitText, Value: t.Text}, nil
	case TokNumber:
		p.next()
		return &Literal{At: t.Pos, Kind: LitNumber, Value: t.Text}, nil
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
		return &Ident{At: t.Pos, Name: t.Text}, nil
	case TokKeyword:
		switch t.Text {
		case "true", "false":
			p.next()
			return &Literal{At: t.Pos, Kind: LitLogical, Value: t.Text}, nil
		case "null":
			p.next()
			return &Literal{At: t.Pos, Kind: LitNull, Value: "null"}, nil
		case "#infinity", "#nan":
			p.next()
			return &Literal{At: t.Pos, Kind: LitNumber, Value: t.Text}, nil
		case "#binary", "#date", "#datetime", "#datetimezone", "#duration", "#time", "#table", "#shared", "#sections":
			p.next()
			return &Ident{At: t.Pos, Name: t.Text}, nil
		}
	case TokPunct:
		switch t.Text {
		case "@":
			p.next()
			id, err := p.identifier()
			if err != nil {
				return nil, err
			}
			return &Ident{At: t.Pos, Name: id.Text, Inclusive: true}, nil
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
func (p *parser) isRecord() bool {
	j := p.i + 1
	if j >= len(p.toks) {
		return false
	}
	t := p.toks[j]
	if t.Kind == TokPunct && t.Text == "]" {
		return true
	}
	if t.Kind == TokQuotedIdent {
		j++
	} else {
		for j < len(p.toks) && isWordToken(p.toks[j]) {
			j++
		}
	}
	return j < len(p.toks) && p.toks[j].Kind == TokPunct && p.toks[j].Text == "="
}

func (p *parser) record() (Expr, error) {
	r := &Record{At: p.next().Pos}
	for !p.isPunct("]") {
		if len(r.Fields) > 0 {
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
		r.Fields = append(r.Fields, Field{At: at, Name: name, Value: v})
	}
	p.next()
	return r, nil
}
