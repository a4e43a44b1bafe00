package vscode

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/dap"
)

// TestLaunchAttributes checks that package.json declares the launch attributes that spindle
// dap reads, and only those: VS Code completes and checks a launch.json by them.
func TestLaunchAttributes(t *testing.T) {
	b, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Contributes struct {
			Debuggers []struct {
				Type                    string `json:"type"`
				ConfigurationAttributes struct {
					Launch struct {
						Required   []string                   `json:"required"`
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"launch"`
				} `json:"configurationAttributes"`
			} `json:"debuggers"`
		} `json:"contributes"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if len(pkg.Contributes.Debuggers) != 1 || pkg.Contributes.Debuggers[0].Type != "spindle" {
		t.Fatalf("package.json contributes %d debuggers; want the one of type spindle", len(pkg.Contributes.Debuggers))
	}
	launch := pkg.Contributes.Debuggers[0].ConfigurationAttributes.Launch
	var declared []string
	for name := range launch.Properties {
		declared = append(declared, name)
	}
	var read []string
	args := reflect.TypeFor[dap.LaunchArgs]()
	for i := range args.NumField() {
		name, _, _ := strings.Cut(args.Field(i).Tag.Get("json"), ",")
		read = append(read, name)
	}
	slices.Sort(declared)
	slices.Sort(read)
	if !slices.Equal(declared, read) {
		t.Errorf("package.json declares the launch attributes\n\t%v\nspindle dap reads\n\t%v", declared, read)
	}
	if !slices.Equal(launch.Required, []string{"program"}) {
		t.Errorf("package.json requires %v; spindle dap requires program", launch.Required)
	}
}
