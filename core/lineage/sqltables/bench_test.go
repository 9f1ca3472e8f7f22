package sqltables

import "testing"

func BenchmarkExtract(b *testing.B) {
	sql := "WITH Recent AS (SELECT * FROM dbo.Tickets WHERE Created > DATEADD(day, -7, GETDATE())), " +
		"Counted AS (SELECT UserId, COUNT(*) AS N FROM Recent GROUP BY UserId) " +
		"SELECT u.Name, c.N FROM Counted c JOIN dbo.Users u WITH (NOLOCK) ON u.Id = c.UserId " +
		"LEFT JOIN (SELECT * FROM [crm].[Accounts] a, crm.Regions r WHERE a.R = r.Id) x ON x.U = u.Id " +
		"WHERE u.Name <> 'from nowhere' -- comment\nUNION ALL SELECT 'a', 1 FROM `p.d.t`"
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		Extract(sql)
	}
}
