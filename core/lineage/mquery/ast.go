package mquery

// Expr is an M expression node. Every node knows where it starts.
type Expr interface {
	Start() Pos
}

// Document is a parsed M document: an expression document, or a section document
// when Section is set.
type Document struct {
	Expr    Expr
	Section *Section
}

// Section is a section document: `section Name; shared A = ...; B = ...;`.
type Section struct {
	At         Pos
	Name       string
	Attributes *Record
	Members    []SectionMember
}

// SectionMember is one member of a section.
type SectionMember struct {
	At     Pos
	Name   string
	Shared bool
	Value  Expr
}

// Ident is an identifier reference; quoted identifiers are decoded, and #shared,
// #date and the other # keywords are identifiers too. Inclusive is the @ form.
type Ident struct {
	At        Pos
	Name      string
	Inclusive bool
}

// LiteralKind says which kind of literal a Literal is.
type LiteralKind uint8

// Literal kinds.
const (
	LitText LiteralKind = iota
	LitNumber
	LitLogical
	LitNull
)

// Literal is a text, number, logical or null literal. Value is the decoded text,
// the number's source spelling, or "true"/"false"/"null". #infinity and #nan are numbers.
type Literal struct {
	At    Pos
	Kind  LiteralKind
	Value string
}

// List is `{a, b, 1..3}`.
type List struct {
	At    Pos
	Items []Expr
}

// Range is the `a..b` item of a list.
type Range struct {
	From, To Expr
}

// Record is `[a = 1, #"b c" = 2]`.
type Record struct {
	At     Pos
	Fields []Field
}

// Field is one field of a record; Name is the generalized identifier's text.
type Field struct {
	At    Pos
	Name  string
	Value Expr
}

// FieldAccess is `x[Name]` or `x[Name]?`; Target is nil for the implicit `[Name]`
// (the `_` of an each).
type FieldAccess struct {
	At       Pos
	Target   Expr
	Field    string
	Optional bool
}

// Projection is `x[[a], [b]]`, optionally with `?`.
type Projection struct {
	At       Pos
	Target   Expr
	Fields   []string
	Optional bool
}

// ItemAccess is `x{selector}` or `x{selector}?`.
type ItemAccess struct {
	At       Pos
	Target   Expr
	Selector Expr
	Optional bool
}

// Call is a function invocation.
type Call struct {
	At   Pos
	Func Expr
	Args []Expr
}

// Param is a function parameter.
type Param struct {
	At       Pos
	Name     string
	Optional bool
	Type     Type // nil when not given
}

// Function is `(a as text, optional b) as table => body`.
type Function struct {
	At     Pos
	Params []Param
	Return Type // nil when not given
	Body   Expr
}

// Each is `each body`, a function of one parameter `_`.
type Each struct {
	At   Pos
	Body Expr
}

// Binding is one `name = value` of a let.
type Binding struct {
	At    Pos
	Name  string
	Value Expr
}

// Let is `let a = 1, b = 2 in body`.
type Let struct {
	At       Pos
	Bindings []Binding
	Body     Expr
}

// If is `if c then a else b`.
type If struct {
	At               Pos
	Cond, Then, Else Expr
}

// Try is `try body`, `try body otherwise x` or `try body catch (e) => x`.
type Try struct {
	At        Pos
	Body      Expr
	Otherwise Expr      // nil unless otherwise was given
	Catch     *Function // nil unless catch was given
}

// ErrorExpr is `error value`.
type ErrorExpr struct {
	At    Pos
	Value Expr
}

// Binary is a binary operation. Op is the operator's spelling: "+", "&", "and",
// "meta", "??", "=", "<>", ... For "as" and "is" the right side is a *TypeExpr.
type Binary struct {
	At    Pos
	Op    string
	Left  Expr
	Right Expr
}

// Unary is `-x`, `+x` or `not x`.
type Unary struct {
	At Pos
	Op string
	X  Expr
}

// NotImplemented is `...`.
type NotImplemented struct {
	At Pos
}

// SectionAccess is `Section1!Member`.
type SectionAccess struct {
	At      Pos
	Section string
	Member  string
}

// TypeExpr is a type value: `type table [A = text]`, or the type after as/is.
type TypeExpr struct {
	At   Pos
	Type Type
}

// Type is a type in a type expression.
type Type interface {
	typeNode()
}

// PrimitiveType is any, text, number, table, ...; Nullable for `nullable text`.
type PrimitiveType struct {
	Name     string
	Nullable bool
}

// NullableType is `nullable T` around a non-primitive type.
type NullableType struct{ Inner Type }

// RecordType is `[a = text, optional b, ...]`.
type RecordType struct {
	Fields []FieldType
	Open   bool
}

// FieldType is one field of a record or table type; Type is nil when not given.
type FieldType struct {
	Name     string
	Optional bool
	Type     Type
}

// ListType is `{T}`.
type ListType struct{ Item Type }

// FunctionType is `function (a as text) as number`.
type FunctionType struct {
	Params []Param
	Return Type
}

// TableType is `table [A = text]` (or `table RowTypeExpr`).
type TableType struct{ Row Type }

// ExprType is a primary expression in type position, such as Int64.Type.
type ExprType struct{ X Expr }

func (PrimitiveType) typeNode() {}
func (NullableType) typeNode()  {}
func (RecordType) typeNode()    {}
func (ListType) typeNode()      {}
func (FunctionType) typeNode()  {}
func (TableType) typeNode()     {}
func (ExprType) typeNode()      {}

// Start returns where the node starts.
func (n *Ident) Start() Pos          { return n.At }
func (n *Literal) Start() Pos        { return n.At }
func (n *List) Start() Pos           { return n.At }
func (n *Range) Start() Pos          { return n.From.Start() }
func (n *Record) Start() Pos         { return n.At }
func (n *FieldAccess) Start() Pos    { return n.At }
func (n *Projection) Start() Pos     { return n.At }
func (n *ItemAccess) Start() Pos     { return n.At }
func (n *Call) Start() Pos           { return n.At }
func (n *Function) Start() Pos       { return n.At }
func (n *Each) Start() Pos           { return n.At }
func (n *Let) Start() Pos            { return n.At }
func (n *If) Start() Pos             { return n.At }
func (n *Try) Start() Pos            { return n.At }
func (n *ErrorExpr) Start() Pos      { return n.At }
func (n *Binary) Start() Pos         { return n.At }
func (n *Unary) Start() Pos          { return n.At }
func (n *NotImplemented) Start() Pos { return n.At }
func (n *SectionAccess) Start() Pos  { return n.At }
func (n *TypeExpr) Start() Pos       { return n.At }
