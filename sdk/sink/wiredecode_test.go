package sink

import (
	"context"
	"fmt"
	"math"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"github.com/pbisync/pbisync/sdk/spec"
)

// viaProto is what the generated code makes of an Event message's bytes.
func viaProto(b []byte, rawJSON bool) (event.Event, error) {
	var p sinkpb.Event
	if err := proto.Unmarshal(b, &p); err != nil {
		return event.Event{}, err
	}
	return eventFrom(&p, rawJSON)
}

// shown renders an event for comparison: every field, nil apart from empty, NaN equal
// to itself (reflect.DeepEqual is not), map entries in key order.
func shown(e event.Event) string {
	s := fmt.Sprintf("%#v %#v ", e.Kind, e.Related)
	if e.Spec != nil {
		s += fmt.Sprintf("%#v", *e.Spec)
	}
	return s
}

func sameAsParsed(t testing.TB, b []byte) {
	t.Helper()
	for _, rawJSON := range []bool{false, true} {
		want, wantErr := viaProto(b, rawJSON)
		got, gotErr := decodeEvent(b, rawJSON)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("rawJSON %v: the generated code: %v; decodeEvent: %v", rawJSON, wantErr, gotErr)
		}
		if wantErr == nil && shown(got) != shown(want) {
			t.Fatalf("rawJSON %v: decodeEvent read\n%s\nthe generated code\n%s", rawJSON, shown(got), shown(want))
		}
	}
}

func encodedSpecEvents(t testing.TB) [][]byte {
	t.Helper()
	cols := []spec.TableColumn{{Name: "a", Type: "string", Description: "d"}, {}, {Name: "b"}}
	full := spec.AssetSpec{
		Key: spec.Key{"ws", "m"}, Deps: []spec.Key{{"a"}, {}, {"b", "c"}}, Description: "about",
		Tags: map[string]string{"z": "", "a": "1", "": "e"}, Kinds: []string{"powerbi", ""}, Owners: []string{"o"}, Group: "g",
		PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "id", Name: "n", WorkspaceID: "w", WorkspaceName: "W"},
		Metadata: map[string]spec.Metadata{
			"text": spec.Text(""), "url": spec.URL("u"), "int": spec.Int(-5), "float": spec.Float(1.5), "nan": spec.Float(math.NaN()),
			"bool": spec.Bool(false), "json": spec.JSON(map[string]any{"b": []any{1, "<x>", nil}}), "schema": spec.Schema(spec.TableSchema{Columns: cols}),
			"schema0": spec.Schema(spec.TableSchema{}),
		},
	}
	var out [][]byte
	for _, e := range []event.Event{
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{}},
		{Kind: event.KindSpec, Spec: &full},
		{Kind: event.KindSpec, Spec: &full, Related: []event.Related{{Key: spec.Key{"m"}, WebURL: "u", Tables: []string{"t", ""}, TableNames: []string{"T"}}, {}}},
		{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"r"}}},
		{Kind: event.KindSummary, Summary: &event.Summary{Workspaces: 3}},
	} {
		b, err := EventBytes(&e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// pbTag, pbStr, pbMsg and pbMeta write protobuf fields by hand, for messages in forms the
// host does not write: a tag, a string field, a message field, a spec's metadata entry.
func pbTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(b, num, typ)
}

func pbStr(b []byte, num protowire.Number, s string) []byte {
	return protowire.AppendString(pbTag(b, num, protowire.BytesType), s)
}

func pbMsg(b []byte, num protowire.Number, body []byte) []byte {
	return protowire.AppendBytes(pbTag(b, num, protowire.BytesType), body)
}

func pbMeta(name string, value []byte) []byte {
	return pbMsg(nil, 4, pbMsg(pbStr(nil, 1, name), 2, value))
}

// TestDecodeEventMatchesProto: the events decodeEvent reads are those the generated
// code's message converts to, for what the host writes and for forms it does not
// (fields twice, out of order, unknown, of another wire type, invalid UTF-8, values
// EventFromProto refuses).
func TestDecodeEventMatchesProto(t *testing.T) {
	enc := encodedSpecEvents(t)
	odd := map[string][]byte{
		"spec twice":           pbMsg(pbMsg(nil, 1, pbStr(nil, 3, "a")), 1, pbStr(nil, 8, "g")),
		"description twice":    pbMsg(nil, 1, pbStr(pbStr(nil, 3, "a"), 3, "b")),
		"key twice":            pbMsg(nil, 1, pbMsg(pbMsg(nil, 1, pbStr(nil, 1, "a")), 1, pbStr(nil, 1, "b"))),
		"unknown fields":       append(pbMsg(nil, 1, append(pbStr(nil, 3, "a"), protowire.AppendVarint(pbTag(nil, 40, protowire.VarintType), 7)...)), protowire.AppendFixed32(pbTag(nil, 9, protowire.Fixed32Type), 1)...),
		"wrong wire type":      pbMsg(nil, 1, protowire.AppendVarint(pbTag(nil, 3, protowire.VarintType), 1)),
		"invalid utf-8":        pbMsg(nil, 1, pbStr(nil, 3, "\xff")),
		"invalid utf-8 tag":    pbMsg(nil, 1, pbMsg(nil, 5, pbStr(pbStr(nil, 1, "k"), 2, "\xc3"))),
		"metadata no value":    pbMsg(nil, 1, pbMeta("m", nil)),
		"metadata two values":  pbMsg(nil, 1, pbMeta("m", pbStr(pbStr(nil, 1, "a"), 2, "b"))),
		"metadata bad json":    pbMsg(nil, 1, pbMeta("m", pbStr(nil, 6, "{"))),
		"metadata empty json":  pbMsg(nil, 1, pbMeta("m", pbStr(nil, 6, ""))),
		"metadata twice":       pbMsg(nil, 1, append(pbMeta("m", pbStr(nil, 1, "a")), pbMeta("m", pbStr(nil, 2, "b"))...)),
		"metadata bad then ok": pbMsg(nil, 1, append(pbMeta("m", nil), pbMeta("m", pbStr(nil, 1, "b"))...)),
		"tag twice":            pbMsg(nil, 1, append(pbMsg(nil, 5, pbStr(pbStr(nil, 1, "k"), 2, "1")), pbMsg(nil, 5, pbStr(pbStr(nil, 1, "k"), 2, "2"))...)),
		"related only":         pbMsg(nil, 5, pbStr(nil, 3, "u")),
		"empty":                nil,
		"truncated":            enc[1][:len(enc[1])/2],
		"spec then removed":    pbMsg(pbMsg(nil, 1, nil), 2, nil),
		"bool 2":               pbMsg(nil, 1, pbMeta("m", protowire.AppendVarint(pbTag(nil, 5, protowire.VarintType), 2))),
		"int huge":             pbMsg(nil, 1, pbMeta("m", protowire.AppendVarint(pbTag(nil, 3, protowire.VarintType), math.MaxUint64))),
	}
	for i, b := range enc {
		odd[fmt.Sprint("encoded ", i)] = b
		// What the host writes of a spec event is read directly, not handed back.
		if _, ok := readSpecEvent(b, true); ok != (i < 3) {
			t.Errorf("encoded event %d: read directly %v", i, ok)
		}
	}
	for name, b := range odd {
		t.Run(name, func(t *testing.T) { sameAsParsed(t, b) })
	}
}

// TestDecodeBatchMatchesProto: a whole request, as the host's WriteRequestParts writes
// it, reads as the parsed WriteRequest's events, and one in another form still does.
func TestDecodeBatchMatchesProto(t *testing.T) {
	enc := encodedSpecEvents(t)
	var req []byte
	parts, _ := WriteRequestParts(42, enc)
	for _, p := range parts {
		req = append(req, p...)
	}
	seq, got, err := decodeBatch(req, true)
	if err != nil || seq != 42 || len(got) != len(enc) {
		t.Fatalf("decodeBatch: seq %d, %d events, %v", seq, len(got), err)
	}
	wantSeq, want, err := parsedBatch(req, true)
	if err != nil || wantSeq != 42 {
		t.Fatal(err)
	}
	for i := range want {
		if shown(got[i]) != shown(want[i]) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, shown(got[i]), shown(want[i]))
		}
	}
	// seq twice, and the batch field twice (merged by the generated code).
	again := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 7)
	twice := append(protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), again), req...)
	for _, b := range [][]byte{twice, append(req, req...), req[:len(req)-3]} {
		s1, e1, err1 := decodeBatch(b, true)
		s2, e2, err2 := parsedBatch(b, true)
		if (err1 != nil) != (err2 != nil) || s1 != s2 || len(e1) != len(e2) {
			t.Fatalf("decodeBatch: %d, %d events, %v; the generated code: %d, %d events, %v", s1, len(e1), err1, s2, len(e2), err2)
		}
	}
}

// FuzzDecodeEvent checks decodeEvent against the generated code on any bytes.
func FuzzDecodeEvent(f *testing.F) {
	for _, b := range encodedSpecEvents(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameAsParsed(t, b) })
}

// keeper is a sink that keeps what it is sent.
type keeper struct{ events []event.Event }

func (k *keeper) Configure(context.Context, Config) error { return nil }
func (k *keeper) WriteBatch(_ context.Context, evs []event.Event) error {
	k.events = append(k.events, evs...)
	return nil
}
func (k *keeper) Close(context.Context) error { return nil }

// TestServerReadsBatchesAsBytes: a server with ServerOptions receives Write batches as
// their bytes (the direct decoder's path), one without them parses the message, and
// both hand the sink the same events; a RawBatchWriter gets them undecoded from the
// bytes (decoded ones otherwise), and they decode to those events too.
func TestServerReadsBatchesAsBytes(t *testing.T) {
	enc := encodedSpecEvents(t)
	var want []event.Event
	for _, b := range enc {
		e, err := viaProto(b, false)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	for name, opts := range map[string][]grpc.ServerOption{"ServerOptions": ServerOptions(), "plain": nil} {
		for _, raw := range []bool{false, true} {
			canonical := raw // the host's promise reaches the raw events
			t.Run(fmt.Sprintf("%s/raw=%v", name, raw), func(t *testing.T) {
				k := &rawKeeper{}
				var impl Sink = &k.keeper
				if raw {
					impl = k
				}
				before := rawBatches.Load()
				sendBatch(t, impl, opts, enc, canonical)
				if got := rawBatches.Load() - before; (got == 1) != (name == "ServerOptions") {
					t.Errorf("%d batches received as bytes", got)
				}
				if wantRaw := map[bool]int{true: len(enc), false: 0}[raw && name == "ServerOptions"]; k.raw != wantRaw {
					t.Errorf("%d events sent undecoded, want %d", k.raw, wantRaw)
				}
				if k.canonical != k.raw*map[bool]int{true: 1}[canonical] {
					t.Errorf("%d of %d undecoded events copy json values unchecked (the host said json_canonical %v)", k.canonical, k.raw, canonical)
				}
				if len(k.events) != len(want) {
					t.Fatalf("the sink got %d events, want %d", len(k.events), len(want))
				}
				for i := range want {
					if shown(k.events[i]) != shown(want[i]) {
						t.Errorf("event %d:\n got %s\nwant %s", i, shown(k.events[i]), shown(want[i]))
					}
				}
			})
		}
	}
}

// sendBatch serves impl with the server options, configures it (json_canonical as given) and sends it the events
// as one batch of a Write stream, through the generated code's messages, as a host does.
func sendBatch(t *testing.T, impl Sink, opts []grpc.ServerOption, enc [][]byte, canonical bool) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	sinkpb.RegisterSinkServer(srv, NewServer(impl, nil, nil))
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient("passthrough:///t", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	c := sinkpb.NewSinkClient(conn)
	if _, err := c.Configure(ctx, &sinkpb.ConfigureRequest{Name: "t", ConfigJson: []byte("{}"), JsonCanonical: canonical}); err != nil {
		t.Fatal(err)
	}
	batch := &sinkpb.Batch{Seq: 1}
	for _, b := range enc {
		var p sinkpb.Event
		if err := proto.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		batch.Events = append(batch.Events, &p)
	}
	stream, err := c.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&sinkpb.WriteRequest{Batch: batch}); err != nil {
		t.Fatal(err)
	}
	if ack, err := stream.Recv(); err != nil || ack.GetSeq() != 1 {
		t.Fatalf("ack %v, %v", ack, err)
	}
	stream.CloseSend()
	stream.Recv()
}

// BenchmarkDecodeBatch reads a batch of 50 model specs of 100 columns each (with
// lineage-sized json) as a plugin does, directly and through the generated code.
func BenchmarkDecodeBatch(b *testing.B) {
	var events [][]byte
	for i := range 50 {
		cols := make([]spec.TableColumn, 100)
		for j := range cols {
			cols[j] = spec.TableColumn{Name: fmt.Sprint("column_", j), Type: "string", Description: "a column"}
		}
		s := spec.AssetSpec{Key: spec.Key{"ws", fmt.Sprint("model_", i)}, Deps: []spec.Key{{"src", "a"}, {"src", "b"}},
			Kinds: []string{"powerbi", "semantic_model"}, Tags: map[string]string{"team": "finance"},
			PowerBI: spec.Identity{Type: spec.SemanticModel, ID: fmt.Sprint(i), Name: "Model", WorkspaceID: "w", WorkspaceName: "W"},
			Metadata: map[string]spec.Metadata{"schema": spec.Schema(spec.TableSchema{Columns: cols}), "url": spec.URL("https://app.powerbi.com/x"),
				"lineage": spec.JSON(map[string]any{"tables": []any{map[string]any{"name": "t", "columns": []any{"a", "b", "c"}}}})}}
		e := event.Event{Kind: event.KindSpec, Spec: &s, Related: []event.Related{{Key: spec.Key{"src", "a"}, WebURL: "u"}}}
		enc, err := EventBytes(&e)
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, enc)
	}
	var req []byte
	parts, _ := WriteRequestParts(1, events)
	for _, p := range parts {
		req = append(req, p...)
	}
	for name, decode := range map[string]func([]byte, bool) (uint64, []event.Event, error){"direct": decodeBatch, "generated": parsedBatch} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(req)))
			b.ReportAllocs()
			for b.Loop() {
				if _, evs, err := decode(req, true); err != nil || len(evs) != 50 {
					b.Fatal(err)
				}
			}
		})
	}
}
