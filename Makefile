# siting pipeline: data/raw -> data/processed/layers -> scores -> maps.
# Every target is a file, so `make` redoes only what changed. Run `make help` for the list.

PYTHON    ?= python3
VENV      ?= .venv
BIN       := $(VENV)/bin
STUDY     ?= pakistan
PROFILES  ?= bitcoin_mining ai_datacenter
DATA      ?= data

# a study or profile in configs/ or $SITING_CONFIG_DIR (the planner's copy) wins over the packaged default of the
# same name, as in siting itself
CONFIG_DIR := $(or $(SITING_CONFIG_DIR),configs)
STUDY_YML := $(firstword $(wildcard $(CONFIG_DIR)/studies/$(STUDY).yml) siting/defaults/studies/$(STUDY).yml)
# the region comes from the study (region.iso3, default PAK); its pack: region.path, SITING_REGIONS_DIR or packaged
ISO3      := $(or $(shell sed -n 's/^ *iso3: *\([A-Z][A-Z][A-Z]\).*/\1/p' $(STUDY_YML) 2>/dev/null | head -1),PAK)
REGION_PATH := $(shell sed -n 's/^ *path: *\([^ #]*\).*/\1/p' $(STUDY_YML) 2>/dev/null | head -1)
PACK      := $(firstword $(wildcard $(REGION_PATH)/region.yml $(REGION_PATH)/$(ISO3)/region.yml) siting/regions/$(ISO3)/region.yml)
PACK_CSV  := $(wildcard $(dir $(PACK))*.csv)

# Offline: copy the Pakistan extracts from ../shared/data/mirror when it exists and SITING_DATA_MIRROR is unset
# (the mirror holds Pakistan only: another region is cut out of the official downloads).
SITING_DATA_MIRROR ?= $(if $(filter PAK,$(ISO3)),$(if $(wildcard ../shared/data/mirror/SHA256SUMS),$(abspath ../shared/data/mirror),),)
export SITING_DATA_MIRROR
export SITING_DATA_DIR := $(DATA)

SITING    := $(BIN)/siting
INSTALLED := $(VENV)/.installed
FETCHED   := $(DATA)/raw/.fetched-$(ISO3)
LAYERS    := $(DATA)/processed/layers/$(ISO3)/provenance.json
OUT        = $(DATA)/processed/$(STUDY)/$(1)
SCORES    := $(foreach p,$(PROFILES),$(call OUT,$(p))/provenance.json)
MAPS      := $(foreach p,$(PROFILES),$(call OUT,$(p))/map.html $(call OUT,$(p))/map.png)
SENS      := $(foreach p,$(PROFILES),$(call OUT,$(p))/sensitivity.csv)
BRIEFS    := $(foreach p,$(PROFILES),$(call OUT,$(p))/briefs/briefs.pdf)
ALLOC     := $(foreach p,$(PROFILES),$(call OUT,$(p))/allocation.csv)
COMPARE   := $(DATA)/processed/$(STUDY)/profiles_comparison.csv
RUNS      ?= 500
# briefs for these provinces only, e.g. BRIEF_PROVINCES="PK-SD PK-BA" (default: every province with candidates)
BRIEF_PROVINCES ?=
SEED      ?= 0
# the code each stage runs (see the README's architecture section)
CORE_PY   := $(wildcard siting/*.py siting/kernels/*.py siting/io/*.py siting/model/*.py siting/decide/*.py) $(PACK_CSV)
OUTPUT_PY := $(wildcard siting/outputs/*.py siting/outputs/*/*.py)

.SECONDEXPANSION:
.PHONY: all install data layers scores maps briefs sensitivity allocate compare notebooks lab test test-fast lint clean help
.DELETE_ON_ERROR:
comma := ,

all: $(MAPS) $(SENS) $(BRIEFS) $(ALLOC) $(COMPARE) ## everything: install, fetch, prepare, score, map, sensitivity, briefs, allocation
	@echo
	@echo "Outputs for study '$(STUDY)':"
	@for p in $(PROFILES); do echo "  $(DATA)/processed/$(STUDY)/$$p/  (scores.parquet|gpkg, provinces.csv, top_sites.csv, sites.csv, surplus*.csv, national_checks.csv, map.html, map.png, sensitivity.csv|png, sensitivity_cells.parquet, briefs/, allocation.csv|md, provenance.json)"; done
	@echo "  $(COMPARE)"
	@echo "Open a map: $(DATA)/processed/$(STUDY)/$(firstword $(PROFILES))/map.html"
	@echo "Where the first $(firstword $(PROFILES)) allocation goes: $(DATA)/processed/$(STUDY)/$(firstword $(PROFILES))/allocation.md"

install: $(INSTALLED) ## create .venv (if missing) and install siting with its dependencies

$(INSTALLED): pyproject.toml
	@echo "▶ install into $(VENV)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	@touch $@
	@echo "✓ install"

data: $(FETCHED) ## copy the mirror's pinned extracts, or cut the study's region out of the official downloads

$(FETCHED): $(INSTALLED) siting/io/catalog.yml
	@$(SITING) fetch --study $(STUDY)
	@touch $@

layers: $(LAYERS) ## build the standard layers in data/processed/layers/<ISO3>/

$(LAYERS): $(FETCHED) $(wildcard siting/layers/*.py) $(PACK_CSV) $(STUDY_YML)
	@$(SITING) prepare --study $(STUDY)

scores: $(SCORES) ## score candidates for every profile

$(DATA)/processed/$(STUDY)/%/provenance.json: $(LAYERS) $$(firstword $$(wildcard $(CONFIG_DIR)/$$*.yml) siting/defaults/profiles/$$*.yml) $(STUDY_YML) $(CORE_PY)
	@$(SITING) score --study $(STUDY) --profile $*

maps: $(MAPS) ## write the maps: offline HTML (map.html) and PNG (map.png)

$(DATA)/processed/$(STUDY)/%/map.html $(DATA)/processed/$(STUDY)/%/map.png: $(DATA)/processed/$(STUDY)/%/provenance.json $(DATA)/processed/$(STUDY)/%/sensitivity.csv $(OUTPUT_PY) siting/outputs/maps/weights.js
	@$(SITING) map --study $(STUDY) --profile $*

briefs: $(BRIEFS) ## one page per province for officials (briefs/brief_<ISO>.html|pdf, briefs/briefs.pdf)

# after the sensitivity run when there is one: the briefs then show each top site's robustness
$(DATA)/processed/$(STUDY)/%/briefs/briefs.pdf: $(DATA)/processed/$(STUDY)/%/provenance.json $(DATA)/processed/$(STUDY)/%/sensitivity.csv $(OUTPUT_PY)
	@$(SITING) brief --study $(STUDY) --profile $* $(foreach p,$(BRIEF_PROVINCES),--province $(p))

sensitivity: $(SENS) ## Monte Carlo + one-at-a-time weight sensitivity of the sites (RUNS, SEED)

$(DATA)/processed/$(STUDY)/%/sensitivity.csv: $(DATA)/processed/$(STUDY)/%/provenance.json siting/decide/sensitivity.py $(OUTPUT_PY)
	@$(SITING) sensitivity --study $(STUDY) --profile $* --runs $(RUNS) --seed $(SEED)

allocate: $(ALLOC) ## place the profile's total (2,000 MW) on sites under surplus and grid-station caps

$(DATA)/processed/$(STUDY)/%/allocation.csv: $(DATA)/processed/$(STUDY)/%/provenance.json siting/decide/allocation.py $(OUTPUT_PY)
	@$(SITING) allocate --study $(STUDY) --profile $*

compare: $(COMPARE) ## profiles side by side: best site per province, overlap of top sites

$(COMPARE): $(SCORES) $(OUTPUT_PY)
	@$(SITING) compare --study $(STUDY) --profiles $(subst $(eval) ,$(comma),$(strip $(PROFILES)))

NOTEBOOKS := $(wildcard notebooks/*.ipynb)
notebooks: $(LAYERS) ## run the notebooks headless; executed copies go to data/processed/notebooks/
	@echo "▶ notebooks"
	@$(BIN)/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1200 \
		--ExecutePreprocessor.kernel_name=python3 --output-dir $(DATA)/processed/notebooks $(NOTEBOOKS)
	@echo "✓ notebooks: $(DATA)/processed/notebooks/"

lab: $(INSTALLED) ## start JupyterLab on the project's environment, in notebooks/
	$(BIN)/jupyter lab --notebook-dir=notebooks

test: $(INSTALLED) ## run the test suite on the mirror data
	@$(BIN)/python -m pytest -q -n auto --dist loadscope

test-fast: $(INSTALLED) ## the test suite without the tests marked slow (browser, notebooks, national runs)
	@$(BIN)/python -m pytest -q -n auto --dist loadscope -m "not slow"

lint: $(INSTALLED) ## ruff (docstrings, complexity, arguments), the import contract and mypy
	@$(BIN)/ruff check siting tests benchmarks notebooks
	@$(BIN)/ruff format --check siting tests benchmarks notebooks
	@$(BIN)/lint-imports
	@$(BIN)/mypy

clean: ## remove processed outputs (keeps raw data and the venv)
	rm -rf $(DATA)/processed/*/ 

help:
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 10
