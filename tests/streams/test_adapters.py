"""Source adapters on records shaped as the vendors document them: what maps, and what is refused and why."""

from __future__ import annotations

import orjson
import pytest

from streams.contract import InvalidRecord, parse_event
from streams.sources.adapters import ADAPTERS, adapt, records_of

# Elastic Agent / Filebeat (nested) and Vector / Logstash (flattened, dotted keys) writing the same ECS event.
ECS_NESTED = {"@timestamp": "2026-11-02T09:15:00.000Z", "ecs": {"version": "8.11.0"},
              "event": {"id": "crm-8812731", "action": "record.export", "outcome": "success", "dataset": "crm.audit",
                        "category": ["database"], "kind": "event"},
              "user": {"name": "agent0021", "email": "agent0021@example.com"}, "source": {"ip": "10.1.2.3",
              "geo": {"city_name": "Berlin"}}, "host": {"name": "laptop-21"}, "file": {"size": 48213},
              "vigil": {"records": 250, "ticket_id": "T-99"}, "labels": {"report": "weekly"}}
ECS_FLAT = {"@timestamp": "2026-11-02T09:15:00.000Z", "event.id": "crm-8812731", "event.action": "record.export",
            "event.outcome": "success", "event.dataset": "crm.audit", "user.name": "agent0021",
            "source.ip": "10.1.2.3", "source.geo.city_name": "Berlin", "host.name": "laptop-21", "file.size": 48213,
            "vigil.records": 250, "vigil.ticket_id": "T-99", "labels": {"report": "weekly"}}

OKTA_LOGIN_FAILED = {
    "actor": {"id": "00uttidj01jqL21aM1d6", "type": "User", "alternateId": "agent0021@example.com",
              "displayName": "Agent 21", "detailEntry": None},
    "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"}, "zone": "null",
               "device": "Computer", "id": None, "ipAddress": "203.0.113.9",
               "geographicalContext": {"city": "Lagos", "state": "Lagos", "country": "Nigeria", "postalCode": None}},
    "displayMessage": "User login to Okta", "eventType": "user.session.start",
    "outcome": {"result": "FAILURE", "reason": "VERIFICATION_ERROR"}, "published": "2026-11-02T03:12:44.102Z",
    "severity": "WARN", "legacyEventType": "core.user_auth.login_failed",
    "transaction": {"type": "WEB", "id": "Xh2c0uHp3ApQ2z4xpz2KXQAABJ8"}, "uuid": "1c9a3c46-bf5b-11f0-9b0e-6f1c7d0d1a2b",
    "version": "0", "target": None,
}

CLOUDTRAIL_FILE = {"Records": [
    {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "userName": "alice",
                                              "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012"},
     "eventTime": "2026-11-02T21:17:28Z", "eventSource": "iam.amazonaws.com", "eventName": "AttachUserPolicy",
     "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.13.5",
     "requestParameters": {"userName": "alice", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
     "responseElements": None, "eventID": "c5e2ab31-1b0c-4f58-9a77-0b2b9c3d1e01", "readOnly": False,
     "eventType": "AwsApiCall", "managementEvent": True, "eventCategory": "Management"},
    {"eventVersion": "1.09", "userIdentity": {"type": "AssumedRole",
                                              "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Support/bob"},
     "eventTime": "2026-11-02T21:20:03Z", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
     "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.8", "responseElements": {"ConsoleLogin": "Failure"},
     "eventID": "d1f0e0a7-6a7d-4b4e-8f1f-2f1c9a0b7c02", "eventType": "AwsConsoleSignIn"},
    {"eventVersion": "1.09", "userIdentity": {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
     "eventTime": "2026-11-02T21:21:00Z", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
     "sourceIPAddress": "cloudtrail.amazonaws.com", "eventID": "e7a1b2c3-0000-4000-8000-000000000003"},
]}

OCSF_AUTH = {"class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201, "time": 1793610900000,
             "status_id": 1, "severity_id": 1, "user": {"name": "agent0021", "uid": "S-1-5-21-1004"},
             "src_endpoint": {"ip": "10.1.2.3", "hostname": "laptop-21"},
             "metadata": {"uid": "auth-5512", "version": "1.3.0", "product": {"name": "Windows", "vendor_name": "Microsoft"}}}
OCSF_WEB_EXPORT = {"class_uid": 6001, "activity_id": 7, "time": 1793611000000, "status_id": 1,
                   "actor": {"user": {"name": "agent0021"}}, "src_endpoint": {"ip": "10.1.2.3"},
                   "web_resources": [{"uid": "C004211", "type": "customer"}, {"uid": "C004212", "type": "customer"}],
                   "metadata": {"uid": "web-1", "version": "1.3.0", "product": {"name": "Zendesk"}}}


def test_every_format_has_an_adapter_and_the_cli_offers_each():
    from streams.ops.cli import SourceFormat

    assert [f.value for f in SourceFormat] == list(ADAPTERS)


@pytest.mark.parametrize("doc", [ECS_NESTED, ECS_FLAT], ids=["nested", "flat"])
def test_ecs_nested_or_flat_maps_to_the_same_event(doc):
    [event] = adapt("ecs", doc)
    assert event | {"geo": None} == {
        "event_id": "crm-8812731", "ts": "2026-11-02T09:15:00.000Z", "user": "agent0021", "action": "record.export",
        "outcome": "success", "resource": "crm.audit", "records": 250, "bytes": 48213, "ticket_id": "T-99",
        "src_ip": "10.1.2.3", "device": "laptop-21", "geo": None, "attrs": {"report": "weekly"}}
    assert parse_event(event).records == 250


def test_an_ecs_document_without_an_id_is_the_same_event_each_time_it_is_sent():
    doc = {k: v for k, v in ECS_FLAT.items() if k != "event.id"}
    assert adapt("ecs", doc)[0]["event_id"] == adapt("ecs", dict(reversed(doc.items())))[0]["event_id"]


def test_ecs_without_a_user_is_refused_naming_the_fields():
    with pytest.raises(InvalidRecord, match=r"ECS record has no user.name or user.email or user.id"):
        adapt("ecs", {k: v for k, v in ECS_FLAT.items() if k != "user.name"})


def test_an_okta_failed_sign_in_from_abroad():
    [event] = adapt("okta", OKTA_LOGIN_FAILED)
    assert (event["user"], event["action"], event["outcome"], event["src_ip"], event["geo"]) == \
           ("agent0021@example.com", "login", "failure", "203.0.113.9", "Lagos, Nigeria")


def test_okta_events_of_systems_are_not_pinned_on_a_person():
    with pytest.raises(InvalidRecord, match="actor.type is 'SystemPrincipal'"):
        adapt("okta", OKTA_LOGIN_FAILED | {"actor": {"type": "SystemPrincipal", "alternateId": "system@okta.com"}})


def test_a_cloudtrail_log_file_maps_each_person_and_refuses_the_services_call():
    records = records_of("cloudtrail", orjson.dumps(CLOUDTRAIL_FILE))
    grant, login = adapt("cloudtrail", records[0])[0], adapt("cloudtrail", records[1])[0]
    assert (grant["user"], grant["action"], grant["resource"]) == ("alice", "privilege.grant", "iam.amazonaws.com")
    assert (login["user"], login["action"], login["outcome"]) == ("bob", "login", "failure")
    with pytest.raises(InvalidRecord, match="userIdentity.type 'AWSService' names no person"):
        adapt("cloudtrail", records[2])


def test_ocsf_authentication_and_a_web_export_of_two_customers():
    [logon] = adapt("ocsf", OCSF_AUTH)
    assert (logon["action"], logon["user"], logon["device"], logon["ts"]) == ("login", "agent0021", "laptop-21",
                                                                             1793610900000)
    [export] = adapt("ocsf", OCSF_WEB_EXPORT)
    assert (export["action"], export["record_id"], export["records"], export["resource"], export["app"]) == \
           ("record.export", "C004211", 2, "customer", "Zendesk")


@pytest.mark.parametrize("record, reason", [
    (OCSF_AUTH | {"class_uid": 4001}, "class_uid 4001 is not one Vigil maps"),
    (OCSF_AUTH | {"activity_id": 99}, "activity_id 99 of class 3002 has no Vigil action"),
    (OCSF_AUTH | {"time": 1793610900}, "maps to an event the contract refuses: 'ts'"),  # seconds, not milliseconds
])
def test_ocsf_refusals_name_what_is_wrong(record, reason):
    with pytest.raises(InvalidRecord, match=reason):
        adapt("ocsf", record)


SF_API = {"attributes": {"type": "ApiEvent"}, "EventIdentifier": "5d35f7a4-2b77-44a0-a8bb-3e8f5d2ec0a1",
          "EventDate": "2026-11-02T16:01:47.000+0000", "Username": "agent0021@acme.example", "SourceIp": "198.51.100.7",
          "Operation": "Query", "QueriedEntities": "Contact", "RowsProcessed": 1,
          "Query": "SELECT Id, Name, Phone FROM Contact WHERE Id = '0035e00000Abc12AAC'", "Application": "DataLoader",
          "Records": '{"totalSize":1,"done":true,"records":[{"Id":"0035e00000Abc12AAC"}]}'}
SF_VIEW = {"EventIdentifier": "b7e2f0a0-5d8e-4c34-9f7d-0b1d8c2f7e55", "EventDate": "2026-11-02T16:02:00.000+0000",
           "Username": "agent0021@acme.example", "SourceIp": "198.51.100.7", "RecordId": "0015e00000XyZ9AAAR",
           "QueriedEntities": "Account", "Operation": "Read", "PageUrl": "/lightning/r/Account/0015e00000XyZ9AAAR/view"}


def test_salesforce_api_query_and_lightning_page_view():
    [api] = adapt("salesforce", SF_API)
    assert (api["action"], api["record_id"], api["resource"], api["records"], api["ts"]) == \
           ("record.view", "0035e00000Abc12AAC", "salesforce.Contact", 1, "2026-11-02T16:01:47.000+00:00")
    [view] = adapt("salesforce", SF_VIEW)  # no attributes.type: told apart by its fields
    assert (view["action"], view["record_id"], view["attrs"]["sf_event"]) == ("record.view", "0015e00000XyZ9AAAR",
                                                                            "LightningUriEvent")
    with pytest.raises(InvalidRecord, match="attributes.type 'LoginEvent'"):
        adapt("salesforce", SF_API | {"attributes": {"type": "LoginEvent"}})


PG_LOG = (
    '2026-11-02 09:15:00.123 UTC,"agent0021","crm",4242,"10.1.2.3:51234",6565c1f0.1092,7,"SELECT",'
    '2026-11-02 09:01:00 UTC,3/41,0,LOG,00000,"AUDIT: SESSION,3,1,READ,SELECT,TABLE,public.customers,'
    '""SELECT name, phone\nFROM customers\nWHERE region = \'north\'"",<not logged>",,,,,,,,,"psql","client backend",,0\n'
    '2026-11-02 09:16:10.001 UTC,"agent0021","crm",4242,"10.1.2.3:51234",6565c1f0.1092,8,"COPY",'
    '2026-11-02 09:01:00 UTC,3/42,0,LOG,00000,"AUDIT: SESSION,4,1,READ,COPY,TABLE,public.customers,'
    '""COPY customers TO STDOUT"",<not logged>",,,,,,,,,"psql","client backend",,0\n'
    '2026-11-02 09:17:00.000 CET,"agent0021","crm",4242,"10.1.2.3:51234",6565c1f0.1092,9,"SELECT",'
    '2026-11-02 09:01:00 UTC,3/43,0,LOG,00000,"AUDIT: SESSION,5,1,READ,SELECT,TABLE,public.orders,'
    '""SELECT 1"",<not logged>",,,,,,,,,"psql","client backend",,0\n'
    '2026-11-02 09:18:00.000 UTC,"agent0021","crm",4242,"10.1.2.3:51234",6565c1f0.1092,10,"idle",'
    '2026-11-02 09:01:00 UTC,3/44,0,LOG,00000,"connection authorized: user=agent0021",,,,,,,,,"psql","client backend",,0\n'
)


def test_a_pgaudit_csvlog_with_a_statement_over_several_lines(tmp_path):
    from streams.sources.files import read_csv_lines

    path = tmp_path / "postgresql.csv"
    path.write_text(PG_LOG)
    lines = list(read_csv_lines(path))
    assert [line.where for line in lines] == ["postgresql.csv:1", "postgresql.csv:4", "postgresql.csv:5",
                                              "postgresql.csv:6"]
    search, export = (adapt("pgaudit", records_of("pgaudit", line.raw)[0])[0] for line in lines[:2])
    assert (search["action"], search["resource"], search["src_ip"]) == ("record.search", "crm.public.customers", "10.1.2.3")
    assert export["action"] == "record.export"
    with pytest.raises(InvalidRecord, match="has no UTC or numeric offset"):
        adapt("pgaudit", records_of("pgaudit", lines[2].raw)[0])
    with pytest.raises(InvalidRecord, match="is not a pgaudit line"):
        adapt("pgaudit", records_of("pgaudit", lines[3].raw)[0])


ZENDESK_WEBHOOK = {"account_id": 12514403, "detail": {}, "type": "zen:event-type:access_log.created",
                   "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "time": "2026-11-02T14:23:45Z",
                   "event": {"access_logs": [
                       {"id": "01J5M2QGXR3KZ8N4BVWYH6T9PA", "timestamp": "2026-11-02T14:23:45Z", "user_id": "6596848315901",
                        "ip_address": "198.51.100.7", "method": "GET", "url": "/api/v2/tickets.json?page=1", "status": 200,
                        "authorization_type": "bearer", "client": "Zendesk/1.0", "bytes_sent": 4096,
                        "category": "Tickets", "summary": "List tickets", "origin_service": "Zendesk"},
                       {"id": "01J5M2QGXR3KZ8N4BVWYH6T9PB", "timestamp": "2026-11-02T14:23:50Z", "user_id": "6596848315901",
                        "ip_address": "198.51.100.7", "method": "GET", "url": "/api/v2/tickets/35436/comments.json",
                        "status": 200, "category": "Tickets", "summary": "List comments"},
                       {"id": "01J5M2QGXR3KZ8N4BVWYH6T9PC", "timestamp": "2026-11-02T14:24:10Z", "user_id": "6596848315901",
                        "ip_address": "198.51.100.7", "method": "GET", "url": "/api/v2/incremental/users/cursor.json",
                        "status": 200, "category": "Users", "summary": "Incremental user export"},
                       {"id": "01J5M2QGXR3KZ8N4BVWYH6T9PD", "timestamp": "2026-11-02T14:25:00Z", "user_id": "6596848315901",
                        "method": "PUT", "url": "/api/v2/users/90210.json", "status": 403}]}}


def test_a_zendesk_webhook_of_access_logs_maps_each_entry():
    entries = records_of("zendesk", orjson.dumps(ZENDESK_WEBHOOK))
    listed, ticket, export, update = (adapt("zendesk", e)[0] for e in entries)
    assert (listed["action"], listed["resource"]) == ("record.search", "zendesk.tickets")
    assert (ticket["action"], ticket["ticket_id"], "record_id" in ticket) == ("record.view", "35436", False)
    assert export["action"] == "record.export"
    assert (update["action"], update["outcome"], update["record_id"]) == ("record.update", "failure", "90210")
    with pytest.raises(InvalidRecord, match="Zendesk record has no url"):
        adapt("zendesk", {k: v for k, v in entries[0].items() if k != "url"})
