# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Development conveniences for `make run` only (a demo user and a demo client on loopback);
# any FACADE_* variable already in the environment wins.
DEMO_ENV := FACADE_AUTH__DEMO_USERNAME=$${FACADE_AUTH__DEMO_USERNAME-demo} \
	FACADE_AUTH__DEMO_PASSWORD=$${FACADE_AUTH__DEMO_PASSWORD-demo} \
	FACADE_AUTH__DEMO_CLIENT_ID=$${FACADE_AUTH__DEMO_CLIENT_ID-demo-app} \
	FACADE_AUTH__DEMO_REDIRECT_URI=$${FACADE_AUTH__DEMO_REDIRECT_URI-http://127.0.0.1:8080/docs/oauth2-redirect} \
	FACADE_AUTH__DEMO_CLIENT_SCOPE="$${FACADE_AUTH__DEMO_CLIENT_SCOPE-openid fhirUser launch launch/patient offline_access user/*.cruds patient/*.rs system/facade.admin}"

# The sandbox clearinghouse as the default connections: claims as 837 files over SFTP, eligibility
# and claim status through its CHC-shaped REST API (development credentials, loopback only).
SANDBOX_CONNECTORS := FACADE_CONNECTORS__SANDBOX__KIND=sftp \
	FACADE_CONNECTORS__SANDBOX__PORT=2222 \
	FACADE_CONNECTORS__SANDBOX__USERNAME=facade \
	FACADE_CONNECTORS__SANDBOX__PASSWORD=sandbox-only \
	FACADE_CONNECTORS__REALTIME__KIND=chc \
	FACADE_CONNECTORS__REALTIME__BASE_URL=http://127.0.0.1:8082 \
	FACADE_CONNECTORS__REALTIME__CLIENT_ID=facade-sandbox \
	FACADE_CONNECTORS__REALTIME__CLIENT_SECRET=sandbox-only \
	FACADE_PIPELINE__DEFAULT_CONNECTOR=$${FACADE_PIPELINE__DEFAULT_CONNECTOR-sandbox} \
	FACADE_PIPELINE__REALTIME_CONNECTOR=$${FACADE_PIPELINE__REALTIME_CONNECTOR-realtime}

run: $(STAMP)
	mkdir -p var
	@$(DEMO_ENV) $(BIN)/facade sandbox --host 127.0.0.1 --port 8081 > var/sandbox.log 2>&1 & \
	  sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	  echo "OpenEMR stand-in on http://127.0.0.1:8081, clearinghouse stand-in on :8082 (REST) and :2222 (SFTP) (log: var/sandbox.log)"; \
	  echo "A bearer token for the demo client: $(BIN)/facade clients token demo-app"; \
	  $(DEMO_ENV) $(SANDBOX_CONNECTORS) $(BIN)/facade serve --host 127.0.0.1 --port 8080

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/rest.py

clean:
	rm -rf $(VENV) var .pytest_cache
