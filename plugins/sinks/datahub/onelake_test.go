package datahub

import "testing"

func TestUpstreamURNRound2(t *testing.T) {
	m := newMapper(namer{env: "PROD", lowercase: true}, upstreamConfig{}, options{}, nil)
	for _, tc := range []struct {
		u    map[string]any
		want string
	}{
		{map[string]any{"platform": "fabric-onelake", "server": "WS1", "database": "LH1", "schema": "dbo", "table": "Orders"},
			"urn:li:dataset:(urn:li:dataPlatform:fabric-onelake,ws1.lh1.dbo.orders,PROD)"},
		{map[string]any{"platform": "snowflake", "database": "MY_DB", "schema": "MY_SCHEMA", "table": "CUSTOMER_TABLE", "unknown": "server"},
			"urn:li:dataset:(urn:li:dataPlatform:snowflake,my_db.my_schema.customer_table,PROD)"},
		{map[string]any{"platform": "mssql", "schema": "dbo", "table": "Orders", "unknown": "database"}, ""},
		{map[string]any{"platform": "powerbi-dataflow", "server": "ws", "database": "df", "table": "Orders"}, ""},
	} {
		if got := m.upstreamURN(tc.u); got != tc.want {
			t.Errorf("upstreamURN(%v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}
