package assets

import (
	"slices"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Sales", "Sales"},
		{"Sales & Returns Sample v201912", "Sales_Returns_Sample_v201912"},
		{"v1.2 Ops", "v1_2_Ops"},
		{"  leading and trailing  ", "_leading_and_trailing_"},
		{"snake_case_kept", "snake_case_kept"},
		{"__double__under", "__double__under"},
		{"a--b..c", "a_b_c"},
		{"Café Über", "Caf_ber"},
		{"日本語", "_"},
		{"x日本y", "x_y"},
		{"MiXeD Case", "MiXeD_Case"},
		{"tab\tnew\nline", "tab_new_line"},
		{"data_27_09_2019.xlsx", "data_27_09_2019_xlsx"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCutFileSuffix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sales.pbix", "Sales"},
		{"Sales.PBIX", "Sales"},
		{"Template.pbit", "Template"},
		{"Budget 2024.xlsx", "Budget 2024"},
		{"Old.xls", "Old"},
		{"Macro.xlsm", "Macro"},
		{"Export.csv", "Export"},
		{"Paginated.rdl", "Paginated"},
		{"v1.2 Ops", "v1.2 Ops"},
		{"Revenue v2.0", "Revenue v2.0"},
		{"a.b.c", "a.b.c"},
		{"Report.pbix.pbix", "Report.pbix"},
		{".pbix", ".pbix"}, // a bare suffix is the whole name: keep it
		{"No suffix", "No suffix"},
		{"Sales.pbixx", "Sales.pbixx"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CutFileSuffix(tt.in); got != tt.want {
			t.Errorf("CutFileSuffix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidOwner(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"john@contoso.com", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"JOHN_DOE%x@Contoso.COM", true},
		{"team:analytics", true},
		{"team:a", true},
		{"team:", false},
		{"John Doe", false},
		{"", false},
		{"john@contoso", false},
		{"john@contoso.c", false},
		{"@contoso.com", false},
		{"john doe@contoso.com", false},
		{"john@contoso.com ", false},
		{"3fadb6e4-130c-4a8f-aeac-416e38b66756", false},
		{"Team:analytics", false},
	}
	for _, tt := range tests {
		if got := ValidOwner(tt.in); got != tt.want {
			t.Errorf("ValidOwner(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a%20b", "a b"},
		{"a+b", "a+b"},
		{"%E2%82%AC", "€"},
		{"bad%zzescape", "bad%zzescape"},
		{"trailing%2", "trailing%2"},
		{"%", "%"},
		{"%2f%2F", "//"},
	}
	for _, tt := range tests {
		if got := unquote(tt.in); got != tt.want {
			t.Errorf("unquote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDataSourceKey(t *testing.T) {
	tests := []struct {
		name   string
		ds     snapshot.DataSource
		want   spec.Key
		fromID bool
	}{
		{"windows path", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{Path: `c:\users\username\documents\orders1.xlsx`}}, spec.Key{"orders1_xlsx"}, false},
		{"unix path", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{Path: "/data/exports/sales.csv"}}, spec.Key{"sales_csv"}, false},
		{"mixed separators", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{Path: `\\server\share/dir\file name.xlsx`}}, spec.Key{"file_name_xlsx"}, false},
		{"url-quoted url", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{URL: "https://contoso.sharepoint.com/sites/Fin/Shared%20Documents/Sales%20Marketing%20Datas.xlsx"}}, spec.Key{"Sales_Marketing_Datas_xlsx"}, false},
		{"quoted slash splits", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{URL: "https://h/a%2Fb"}}, spec.Key{"b"}, false},
		{"trailing slash", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{URL: "https://microsoft.sharepoint.com/hello/myproj/"}}, spec.Key{"myproj"}, false},
		{"trailing backslashes", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{Path: `C:\exports\monthly\\`}}, spec.Key{"monthly"}, false},
		{"odata url", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{URL: "http://services.odata.org/MyOdata/MyOdata.svc"}}, spec.Key{"MyOdata_svc"}, false},
		{"path before url", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{Path: "a/p.csv", URL: "https://h/u", Database: "db"}}, spec.Key{"p_csv"}, false},
		{"url before database", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{URL: "https://h/u", Database: "db"}}, spec.Key{"u"}, false},
		{"database", snapshot.DataSource{ID: "ds1", ConnectionDetails: &snapshot.ConnectionDetails{Server: "srv.database.windows.net", Database: "dbo.largest_table"}}, spec.Key{"dbo_largest_table"}, false},
		{"server only uses id", snapshot.DataSource{ID: "33cc5222-3fb9-44f7", ConnectionDetails: &snapshot.ConnectionDetails{Server: "My-As-Server"}}, spec.Key{"33cc5222_3fb9_44f7"}, true},
		{"no connection details", snapshot.DataSource{ID: "33cc5222-3fb9-44f7"}, spec.Key{"33cc5222_3fb9_44f7"}, true},
		{"only separators falls through", snapshot.DataSource{ID: "ds-9", ConnectionDetails: &snapshot.ConnectionDetails{Path: `\\`, Database: "Sales DB"}}, spec.Key{"Sales_DB"}, false},
		{"nothing at all", snapshot.DataSource{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DataSourceKey(&tt.ds)
			if !got.Equal(tt.want) {
				t.Errorf("DataSourceKey = %q, want %q", got, tt.want)
			}
			if _, fromID := DataSourceName(&tt.ds); fromID != tt.fromID {
				t.Errorf("DataSourceName fromID = %v, want %v", fromID, tt.fromID)
			}
		})
	}
}

func FuzzDataSourceKey(f *testing.F) {
	f.Add("c:\\users\\u\\orders1.xlsx", "", "", "id-1")
	f.Add("", "https://h/sites/a%20b/list/", "", "id-2")
	f.Add("", "", "dbo.largest_table", "")
	f.Add("\\\\/", "%zz", "", "x")
	f.Fuzz(func(t *testing.T, path, url, database, id string) {
		ds := snapshot.DataSource{ID: id, ConnectionDetails: &snapshot.ConnectionDetails{Path: path, URL: url, Database: database}}
		k := DataSourceKey(&ds)
		if k == nil {
			if id != "" {
				t.Fatalf("no key for a data source with id %q", id)
			}
			return
		}
		if len(k) != 1 || k.Validate() != nil {
			t.Fatalf("key %q is not one valid part", k)
		}
		if Clean(k[0]) != k[0] {
			t.Fatalf("key part %q is not clean", k[0])
		}
		name, fromID := DataSourceName(&ds)
		if fromID && name != id {
			t.Fatalf("fromID but name %q is not the id %q", name, id)
		}
	})
}

func TestMeasureRefs(t *testing.T) {
	tbl := &snapshot.Table{Name: "Sales", Columns: []snapshot.Column{{Name: "Amount"}, {Name: "Qty"}}}
	measures := map[string]bool{"total sales": true}
	got := measureRefs(tbl, `DIVIDE([Total Sales], SUM([Qty])) + SUMX('Dim Date', 'Dim Date'[Day]) // [Commented]
		+ CALCULATE([Total Sales], Sales[Amount] > 0, "[not a ref]")`, measures)
	want := []string{"[Total Sales]", "'Sales'[Qty]", "'Dim Date'[Day]", "'Sales'[Amount]"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
