package mquery

// params parses a parameter list after its `(`, through the `)`. In function types
// (typed) each parameter needs `as type`, which may be any type.
func (p *parser) params(typed bool) ([]Param, error) {
	var params []Param
	seenOptional := false
	for !p.isPunct(")") {
		if len(params) > 0 {
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		prm := Param{At: p.tok().Pos}
		if p.is(TokIdent, "optional") && (p.peekN(1).Kind == TokIdent || p.peekN(1).Kind == TokQuotedIdent) {
			p.next()
			prm.Optional = true
			seenOptional = true
		} else if seenOptional {
			return nil, p.errf(p.tok(), "a required parameter cannot follow an optional one")
		}
		name, err := p.identifier()
		if err != nil {
			return nil, err
		}
		prm.Name = name.Text
		if p.isKw("as") {
			p.next()
			if typed {
				prm.Type, err = p.typ()
			} else {
				prm.Type, err = p.nullablePrimitive()
			}
			if err != nil {
				return nil, err
			}
		} else if typed {
			return nil, p.errf(p.tok(), "expected \"as\" and a type for parameter %q", prm.Name)
		}
		params = append(params, prm)
	}
	p.next()
	return params, nil
}

var primitiveTypes = map[string]bool{
	"any": true, "anynonnull": true, "binary": true, "date": true, "datetime": true,
	"datetimezone": true, "duration": true, "function": true, "list": true, "logical": true,
	"none": true, "null": true, "number": true, "record": true, "table": true, "text": true,
	"time": true, "type": true, "action": true,
}

func (p *parser) isPrimitiveName(t *Token) bool {
	return (t.Kind == TokIdent || t.Kind == TokKeyword) && primitiveTypes[t.Text]
}

// nullablePrimitive parses `[nullable] primitive-type`, the form as, is, parameters
// and return types take.
func (p *parser) nullablePrimitive() (Type, error) {
	nullable := false
	if p.is(TokIdent, "nullable") {
		p.next()
		nullable = true
	}
	t := p.tok()
	if !p.isPrimitiveName(t) {
		return nil, p.errf(t, "expected a primitive type, found %s", t)
	}
	p.next()
	return PrimitiveType{Name: t.Text, Nullable: nullable}, nil
}

// typ parses a type in type context: a primary type or a primary expression.
func (p *parser) typ() (Type, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	x, err := p.typNested()
	p.leave()
	return x, err
}

// typNested is typ within its nesting level, which typ leaves without a defer (a
// deferred call in a function of many returns is not open-coded, and costs).
func (p *parser) typNested() (Type, error) {
	t := p.tok()
	switch {
	case t.Kind == TokIdent && t.Text == "nullable":
		p.next()
		inner, err := p.typ()
		if err != nil {
			return nil, err
		}
		if prim, ok := inner.(PrimitiveType); ok {
			prim.Nullable = true
			return prim, nil
		}
		return NullableType{Inner: inner}, nil
	case t.Kind == TokIdent && t.Text == "table" && (p.peekN(1).Kind == TokPunct && p.peekN(1).Text == "[" || p.peekN(1).Kind == TokIdent || p.peekN(1).Kind == TokQuotedIdent):
		p.next()
		row, err := p.typ()
		if err != nil {
			return nil, err
		}
		return TableType{Row: row}, nil
	case t.Kind == TokIdent && t.Text == "function" && p.peekN(1).Kind == TokPunct && p.peekN(1).Text == "(":
		p.next()
		p.next()
		params, err := p.params(true)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokKeyword, "as"); err != nil {
			return nil, err
		}
		ret, err := p.typ()
		if err != nil {
			return nil, err
		}
		return FunctionType{Params: params, Return: ret}, nil
	case p.isPrimitiveName(t):
		p.next()
		return PrimitiveType{Name: t.Text}, nil
	case t.Kind == TokPunct && t.Text == "[":
		return p.recordType()
	case t.Kind == TokPunct && t.Text == "{":
		p.next()
		item, err := p.typ()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokPunct, "}"); err != nil {
			return nil, err
		}
		return ListType{Item: item}, nil
	}
	e, err := p.postfix()
	if err != nil {
		return nil, err
	}
	return ExprType{X: e}, nil
}

func (p *parser) recordType() (Type, error) {
	p.next() // [
	rt := RecordType{}
	for !p.isPunct("]") {
		if len(rt.Fields) > 0 || rt.Open {
			if rt.Open {
				return nil, p.errf(p.tok(), "\"...\" must end a record type")
			}
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		if p.isPunct("...") {
			p.next()
			rt.Open = true
			continue
		}
		f := FieldType{}
		if p.is(TokIdent, "optional") && !p.nextIsFieldEnd(1) {
			p.next()
			f.Optional = true
		}
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		f.Name = name
		if p.isPunct("=") {
			p.next()
			if f.Type, err = p.typ(); err != nil {
				return nil, err
			}
		}
		rt.Fields = append(rt.Fields, f)
	}
	p.next()
	return rt, nil
}

func (p *parser) nextIsFieldEnd(n int) bool {
	t := p.peekN(n)
	return t.Kind == TokPunct && (t.Text == "=" || t.Text == "," || t.Text == "]")
}
