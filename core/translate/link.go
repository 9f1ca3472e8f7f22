package translate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// checkLinks compares every function the module imports with what the host provides,
// so a wrong signature is refused at load with the import's name instead of failing
// later as a trap.
func checkLinks(rt wazero.Runtime, cm wazero.CompiledModule) error {
	for _, imp := range cm.ImportedFunctions() {
		mod, name, _ := imp.Import()
		host := rt.Module(mod)
		if host == nil {
			return fmt.Errorf("module imports %s.%s, which pbisync does not provide (ABI version %d: see sdk/ABI.md)", mod, name, ABIVersion)
		}
		def, ok := host.ExportedFunctionDefinitions()[name]
		if !ok {
			return fmt.Errorf("module imports %s.%s, which pbisync does not provide (ABI version %d: see sdk/ABI.md)", mod, name, ABIVersion)
		}
		if !slices.Equal(imp.ParamTypes(), def.ParamTypes()) || !slices.Equal(imp.ResultTypes(), def.ResultTypes()) {
			return fmt.Errorf("module imports %s.%s with the signature %s; pbisync provides %s (see sdk/ABI.md)",
				mod, name, signature(imp), signature(def))
		}
	}
	return nil
}

// signature renders a function type as (i32, i32) -> i32.
func signature(d api.FunctionDefinition) string {
	list := func(ts []api.ValueType) string {
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = api.ValueTypeName(t)
		}
		return strings.Join(names, ", ")
	}
	s := "(" + list(d.ParamTypes()) + ") -> "
	switch r := d.ResultTypes(); len(r) {
	case 0:
		s += "()"
	case 1:
		s += list(r)
	default:
		s += "(" + list(r) + ")"
	}
	return s
}
