package snapshot

import "encoding/json"

// The fast readers below fill the same wire structs as encoding/json, from a value the
// stream decoder has checked, without reflection and without copying the items' JSON
// (their Raw is a slice of the workspace's bytes). Each reports false for whatever it
// does not read exactly as encoding/json would; the caller then decodes with
// encoding/json. FuzzFastWire holds them to that.

// fastWorkspace reads one element of scanResult's workspaces.
func fastWorkspace(b []byte, w *wireWorkspace) bool {
	s := scanner{b: b}
	if s.peek() != '{' {
		return false
	}
	var seen fields
	ok := s.object(func(key string) bool {
		switch key {
		case "id":
			return seen.first(0) && s.str(&w.ID)
		case "name":
			return seen.first(1) && s.str(&w.Name)
		case "description":
			return seen.first(2) && s.str(&w.Description)
		case "type":
			return seen.first(3) && s.str(&w.Type)
		case "state":
			return seen.first(4) && s.str(&w.State)
		case "isondedicatedcapacity":
			return seen.first(5) && s.boolean(&w.IsOnDedicatedCapacity)
		case "capacityid":
			return seen.first(6) && s.str(&w.CapacityID)
		case "reports":
			return seen.first(7) && s.raws(&w.Reports)
		case "dashboards":
			return seen.first(8) && s.raws(&w.Dashboards)
		case "datasets":
			// Each model is read here, as the workspace is walked, and kept beside its
			// JSON; one the fast reader leaves is decoded from its JSON later.
			if !seen.first(9) {
				return false
			}
			isNull, ok := s.array(func() bool {
				s.space()
				start := s.i
				var d *wireDataset
				if s.peek() == '{' {
					d = new(wireDataset)
					if !s.dataset(d) {
						d, s.i = nil, start
						s.skip()
					}
				} else {
					s.skip()
				}
				w.Datasets = append(w.Datasets, s.b[start:s.i:s.i])
				w.read = append(w.read, d)
				return true
			})
			if !isNull && w.Datasets == nil {
				w.Datasets = []json.RawMessage{}
			}
			return ok
		case "dataflows":
			return seen.first(10) && s.raws(&w.Dataflows)
		case "lakehouse":
			return seen.first(11) && s.raws(&w.Lakehouse)
		case "lakehouses":
			return seen.first(12) && s.raws(&w.Lakehouses)
		case "warehouse":
			return seen.first(13) && s.raws(&w.Warehouse)
		case "warehouses":
			return seen.first(14) && s.raws(&w.Warehouses)
		case "sqlanalyticsendpoint":
			return seen.first(15) && s.raws(&w.SQLAnalyticsEndpoint)
		case "sqlanalyticsendpoints":
			return seen.first(16) && s.raws(&w.SQLEndpoints)
		case "datamarts":
			return seen.first(17) && s.raws(&w.Datamarts)
		}
		s.skip()
		return true
	})
	return ok && s.peek() == 0
}

// fastDataset reads one element of a workspace's datasets.
func fastDataset(b []byte, w *wireDataset) bool {
	s := scanner{b: b}
	return s.peek() == '{' && s.dataset(w) && s.peek() == 0
}

// dataset reads the model object s is at.
func (s *scanner) dataset(w *wireDataset) bool {
	var seen fields
	return s.object(func(key string) bool {
		switch key {
		case "id":
			return seen.first(0) && s.str(&w.ID)
		case "name":
			return seen.first(1) && s.str(&w.Name)
		case "description":
			return seen.first(2) && s.str(&w.Description)
		case "configuredby":
			return seen.first(3) && s.str(&w.ConfiguredBy)
		case "createddate":
			return seen.first(4) && s.str(&w.CreatedDate)
		case "weburl":
			return seen.first(5) && s.str(&w.WebURL)
		case "contentprovidertype":
			return seen.first(6) && s.str(&w.ContentProviderType)
		case "targetstoragemode":
			return seen.first(7) && s.str(&w.TargetStorageMode)
		case "isrefreshable":
			return seen.first(8) && s.optBool(&w.IsRefreshable)
		case "endorsementdetails":
			return seen.first(9) && s.endorsement(&w.EndorsementDetails)
		case "sensitivitylabel":
			return seen.first(10) && s.label(&w.SensitivityLabel)
		case "schemaretrievalerror":
			if !seen.first(11) {
				return false
			}
			w.SchemaRetrievalError = s.raw()
			return true
		case "tables":
			return seen.first(12) && s.tables(&w.Tables)
		case "expressions":
			return seen.first(13) && s.expressions(&w.Expressions)
		case "datasourceusages":
			return seen.first(14) && s.usages(&w.DatasourceUsages)
		case "upstreamdataflows":
			return seen.first(15) && s.dataflowRefs(&w.UpstreamDataflows)
		case "upstreamdatasets":
			return seen.first(16) && s.datasetRefs(&w.UpstreamDatasets)
		}
		s.skip()
		return true
	})
}

// list reads an array of structs the way encoding/json fills a slice: nil for null, empty
// for [], a zero element for each null element. read fills one element from an object.
// The elements are gathered in scratch, which the scanner keeps for the next list of
// that type, and copied into a slice of their number.
func list[T any](s *scanner, v *[]T, scratch *[]T, read func(*T) bool) bool {
	base := len(*scratch) // a list inside an element of the same type gathers above it
	isNull, ok := s.array(func() bool {
		var zero T
		*scratch = append(*scratch, zero)
		if s.null() {
			return true
		}
		if s.peek() != '{' {
			return false
		}
		return read(&(*scratch)[len(*scratch)-1])
	})
	got := (*scratch)[base:]
	switch {
	case isNull:
		*v = nil
	case len(got) == 0:
		*v = []T{}
	default:
		*v = append(make([]T, 0, len(got)), got...)
	}
	clear(got)
	*scratch = (*scratch)[:base]
	return ok
}

func (s *scanner) tables(v *[]wireTable) bool {
	return list(s, v, &s.scratch.tables, func(t *wireTable) bool {
		var seen fields
		return s.object(func(key string) bool {
			switch key {
			case "name":
				return seen.first(0) && s.str(&t.Name)
			case "description":
				return seen.first(1) && s.str(&t.Description)
			case "ishidden":
				return seen.first(2) && s.boolean(&t.IsHidden)
			case "source":
				return seen.first(3) && s.sources(&t.Source)
			case "columns":
				return seen.first(4) && s.columns(&t.Columns)
			case "measures":
				return seen.first(5) && s.measures(&t.Measures)
			}
			s.skip()
			return true
		})
	})
}

func (s *scanner) sources(v *[]wireSource) bool {
	return list(s, v, &s.scratch.sources, func(x *wireSource) bool {
		return s.strFields(sourceFields, &x.Expression, &x.ExpressionSource, &x.SchemaName, &x.EntityName)
	})
}

func (s *scanner) columns(v *[]Column) bool {
	return list(s, v, &s.scratch.columns, func(c *Column) bool {
		var seen fields
		return s.object(func(key string) bool {
			switch key {
			case "name":
				return seen.first(0) && s.name(&c.Name)
			case "datatype":
				return seen.first(1) && s.common(&c.DataType)
			case "columntype":
				return seen.first(2) && s.common(&c.ColumnType)
			case "expression":
				return seen.first(3) && s.str(&c.Expression)
			case "formatstring":
				return seen.first(4) && s.common(&c.FormatString)
			case "ishidden":
				return seen.first(5) && s.boolean(&c.IsHidden)
			}
			s.skip()
			return true
		})
	})
}

func (s *scanner) measures(v *[]Measure) bool {
	return list(s, v, &s.scratch.measures, func(m *Measure) bool {
		var seen fields
		return s.object(func(key string) bool {
			switch key {
			case "name":
				return seen.first(0) && s.str(&m.Name)
			case "expression":
				return seen.first(1) && s.str(&m.Expression)
			case "description":
				return seen.first(2) && s.str(&m.Description)
			case "ishidden":
				return seen.first(3) && s.boolean(&m.IsHidden)
			}
			s.skip()
			return true
		})
	})
}

func (s *scanner) expressions(v *[]Expression) bool {
	return list(s, v, &s.scratch.expressions, func(e *Expression) bool {
		return s.strFields(expressionFields, &e.Name, &e.Description, &e.Expression)
	})
}

func (s *scanner) usages(v *[]wireUsage) bool {
	return list(s, v, &s.scratch.usages, func(u *wireUsage) bool {
		return s.strFields(usageFields, &u.DatasourceInstanceID)
	})
}

func (s *scanner) dataflowRefs(v *[]wireDataflowRef) bool {
	return list(s, v, &s.scratch.dataflowRefs, func(r *wireDataflowRef) bool {
		return s.strFields(dataflowRefFields, &r.TargetDataflowID, &r.GroupID)
	})
}

func (s *scanner) datasetRefs(v *[]wireDatasetRef) bool {
	return list(s, v, &s.scratch.datasetRefs, func(r *wireDatasetRef) bool {
		return s.strFields(datasetRefFields, &r.TargetDatasetID, &r.GroupID)
	})
}

// endorsement reads an endorsementDetails object into a new *e (a null leaves it nil).
func (s *scanner) endorsement(e **wireEndorsement) bool {
	if s.null() {
		return true
	}
	if s.peek() != '{' {
		return false
	}
	v := new(wireEndorsement)
	*e = v
	return s.strFields(endorsementFields, &v.Endorsement, &v.CertifiedBy)
}

// label reads a sensitivityLabel object into a new *l (a null leaves it nil).
func (s *scanner) label(l **wireLabel) bool {
	if s.null() {
		return true
	}
	if s.peek() != '{' {
		return false
	}
	v := new(wireLabel)
	*l = v
	return s.strFields(labelFields, &v.LabelID)
}

// strFields reads an object whose fields of interest are all strings: the one named
// names[i] (in lower case, as object passes keys) into *dst[i], each at most once; the
// others are skipped.
func (s *scanner) strFields(names []string, dst ...*string) bool {
	var seen fields
	return s.object(func(key string) bool {
		for i, n := range names {
			if key == n {
				return seen.first(uint(i)) && s.str(dst[i])
			}
		}
		s.skip()
		return true
	})
}

// The fields strFields reads, in the order of its dst.
var (
	sourceFields      = []string{"expression", "expressionsource", "schemaname", "entityname"}
	expressionFields  = []string{"name", "description", "expression"}
	usageFields       = []string{"datasourceinstanceid"}
	dataflowRefFields = []string{"targetdataflowid", "groupid"}
	datasetRefFields  = []string{"targetdatasetid", "groupid"}
	endorsementFields = []string{"endorsement", "certifiedby"}
	labelFields       = []string{"labelid"}
)

// optBool reads true or false into a new *b (a null leaves it nil).
func (s *scanner) optBool(b **bool) bool {
	if s.null() {
		return true
	}
	v := new(bool)
	*b = v
	return s.boolean(v)
}

// common reads a string that takes few values (a data type, a format string): one
// string per distinct value of a workspace rather than one per column.
func (s *scanner) common(v *string) bool {
	body, plain := s.short()
	if !plain {
		return s.str(v)
	}
	if c, ok := commonValues[string(body)]; ok {
		*v = c
		return true
	}
	*v = string(body)
	return true
}

// name reads a column's name. Names repeat across a document's tables and models (Date,
// Year, CustomerID; a model deployed to several workspaces): each short one is made
// once per document and shared, up to maxNames of them.
func (s *scanner) name(v *string) bool {
	body, plain := s.short()
	if !plain {
		return s.str(v)
	}
	if c, ok := s.names[string(body)]; ok {
		*v = c
		return true
	}
	*v = string(body)
	if len(s.names) < maxNames {
		if s.names == nil {
			s.names = map[string]string{}
		}
		s.names[*v] = *v
	}
	return true
}

// maxNames bounds the names a scanner shares; maxShort is the longest string body
// common and name look up.
const (
	maxNames = 1 << 14
	maxShort = 64
)

// short moves past the plain string (no escape, only ASCII) of at most maxShort bytes
// that s is at, and returns its body; plain is false, and s stays where it was, for
// any other value.
func (s *scanner) short() (body []byte, plain bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i
	if !s.skipString() || s.i-start > maxShort+2 {
		s.i = start
		return nil, false
	}
	return s.b[start+1 : s.i-1], true
}

// commonValues are the data and column types and format strings the service sends most.
var commonValues = func() map[string]string {
	m := map[string]string{}
	for _, v := range commonList {
		m[v] = v
	}
	return m
}()

var commonList = []string{
	"String", "Int64", "Double", "DateTime", "Decimal", "Boolean", "Binary",
	"Data", "Calculated", "CalculatedTableColumn", "RowNumber",
	"PowerBIReport", "PaginatedReport",
	"0", "#,0", "#,0.00", "General Date", "Short Date", "Long Date", "0.00", "0.0%", "0%",
}

// fastReport reads one element of a workspace's reports.
func fastReport(b []byte, w *wireReport) bool {
	s := scanner{b: b}
	if s.peek() != '{' {
		return false
	}
	var seen fields
	return s.object(func(key string) bool {
		switch key {
		case "id":
			return seen.first(0) && s.str(&w.ID)
		case "datasourceusages":
			return seen.first(1) && s.usages(&w.DatasourceUsages)
		case "name":
			return seen.first(2) && s.str(&w.Name)
		case "description":
			return seen.first(3) && s.str(&w.Description)
		case "datasetid":
			return seen.first(4) && s.str(&w.DatasetID)
		case "datasetworkspaceid":
			return seen.first(5) && s.str(&w.DatasetWorkspaceID)
		case "reporttype":
			return seen.first(6) && s.common(&w.ReportType)
		case "weburl":
			return seen.first(7) && s.str(&w.WebURL)
		case "embedurl":
			return seen.first(8) && s.str(&w.EmbedURL)
		case "appid":
			return seen.first(9) && s.str(&w.AppID)
		case "createdby":
			return seen.first(10) && s.str(&w.CreatedBy)
		case "modifiedby":
			return seen.first(11) && s.str(&w.ModifiedBy)
		case "createddatetime":
			return seen.first(12) && s.str(&w.CreatedDateTime)
		case "modifieddatetime":
			return seen.first(13) && s.str(&w.ModifiedDateTime)
		case "endorsementdetails":
			return seen.first(14) && s.endorsement(&w.EndorsementDetails)
		case "sensitivitylabel":
			return seen.first(15) && s.label(&w.SensitivityLabel)
		}
		s.skip()
		return true
	}) && s.peek() == 0
}

// fastDashboard reads one element of a workspace's dashboards.
func fastDashboard(b []byte, w *wireDashboard) bool {
	s := scanner{b: b}
	if s.peek() != '{' {
		return false
	}
	var seen fields
	return s.object(func(key string) bool {
		switch key {
		case "id":
			return seen.first(0) && s.str(&w.ID)
		case "displayname":
			return seen.first(1) && s.str(&w.DisplayName)
		case "isreadonly":
			return seen.first(2) && s.boolean(&w.IsReadOnly)
		case "weburl":
			return seen.first(3) && s.str(&w.WebURL)
		case "embedurl":
			return seen.first(4) && s.str(&w.EmbedURL)
		case "appid":
			return seen.first(5) && s.str(&w.AppID)
		case "sensitivitylabel":
			return seen.first(6) && s.label(&w.SensitivityLabel)
		case "tiles":
			return seen.first(7) && s.tiles(&w.Tiles)
		}
		s.skip()
		return true
	}) && s.peek() == 0
}

func (s *scanner) tiles(v *[]wireTile) bool {
	return list(s, v, &s.scratch.tiles, func(t *wireTile) bool {
		var seen fields
		return s.object(func(key string) bool {
			switch key {
			case "id":
				return seen.first(0) && s.str(&t.ID)
			case "title":
				return seen.first(1) && s.str(&t.Title)
			case "reportid":
				return seen.first(2) && s.str(&t.ReportID)
			case "datasetid":
				return seen.first(3) && s.str(&t.DatasetID)
			case "datasetworkspaceid":
				return seen.first(4) && s.str(&t.DatasetWorkspaceID)
			case "rowspan":
				return seen.first(5) && s.smallInt(&t.RowSpan)
			case "colspan":
				return seen.first(6) && s.smallInt(&t.ColSpan)
			}
			s.skip()
			return true
		})
	})
}

// smallInt reads a plain integer of a few digits into a flexInt (null leaves it);
// anything else (a fraction, an exponent, a number in a string) is flexInt's to read.
func (s *scanner) smallInt(v *flexInt) bool {
	if s.null() {
		*v = 0
		return true
	}
	start, neg := s.i, false
	if start < len(s.b) && s.b[start] == '-' {
		neg, s.i = true, s.i+1
	}
	n, digits := 0, 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		n, digits, s.i = n*10+int(s.b[s.i]-'0'), digits+1, s.i+1
	}
	if digits == 0 || digits > 9 || (s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E')) {
		s.i = start
		return false
	}
	if neg {
		n = -n
	}
	*v = flexInt(n)
	return true
}
