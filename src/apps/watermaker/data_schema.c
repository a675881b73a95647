/*
 * data_schema.c - how the watermaker's data endpoints (data.c) are
 * described and mounted: the route table (each route under
 * /api/machines/{id}/ and at the specification's own /api/ path), the
 * body and query parameters they take, and the OpenAPI components of
 * their answers, each with an example as the simulated watermaker gives
 * it (docs/watermaker.md, "Endpoints").
 *
 * An entry is one register's value (data.c's entry_json); a group is its
 * entries by key (the parameter in snake case).
 */
#include "wm_app.h"

/* The handlers (data.c). */
int wm__data_status(const gw_app_http *http, gw_app_req *r);
int wm__data_all(const gw_app_http *http, gw_app_req *r);
int wm__data_select(const gw_app_http *http, gw_app_req *r);
int wm__data_errors(const gw_app_http *http, gw_app_req *r);
int wm__data_config(const gw_app_http *http, gw_app_req *r);
int wm__data_write_register(const gw_app_http *http, gw_app_req *r);
int wm__data_group(const gw_app_http *http, gw_app_req *r);
int wm__data_sensors_category(const gw_app_http *http, gw_app_req *r);
int wm__data_rtc(const gw_app_http *http, gw_app_req *r);

/* As data.c names them in its answers. */
#define GROUP_LIST "system, sensors, timers, outputs, runtime, water_counters, rtc"
#define CATEGORY_LIST "system, pressure, temperature, flow, quality"

#define NUM "{\"type\":\"number\"}"
#define INT "{\"type\":\"integer\"}"
#define BOOL "{\"type\":\"boolean\"}"
#define STR "{\"type\":\"string\"}"
#define NUMN "{\"type\":[\"number\",\"null\"]}"
#define INTN "{\"type\":[\"integer\",\"null\"]}"
#define STRN "{\"type\":[\"string\",\"null\"]}"
#define BOOLN "{\"type\":[\"boolean\",\"null\"]}"

#define STAMP                                                                                \
    "\"machine\":" STR ",\"connected\":" BOOL ",\"ts\":{\"type\":[\"string\",\"null\"],"    \
    "\"format\":\"date-time\",\"description\":\"the newest value's time (the last scan)\"},"  \
    "\"age_ms\":{\"type\":\"integer\",\"description\":\"how old ts is; -1: no value yet\"}"
#define STAMP_EX                                                                             \
    "\"machine\":\"watermaker\",\"connected\":true,\"ts\":\"2026-12-07T21:18:58.108Z\","      \
    "\"age_ms\":42"

/* ---------------------------------------------------------------- entries */

#define ENTRY_PROPS                                                                          \
    "\"register\":{\"type\":[\"integer\",\"null\"],\"description\":\"the holding register "   \
    "(1003 for R1003)\"},\"pair_register\":{\"type\":\"integer\",\"description\":\"the "       \
    "second register of a 32-bit float\"},\"parameter\":{\"type\":\"string\",\"description\":" \
    "\"its name in the tag map\"},\"value\":{\"type\":[\"number\",\"null\"],\"description\":"  \
    "\"scaled, in unit; null: no value (see quality)\"},\"unit\":" STRN ",\"category\":" STRN  \
    ",\"quality\":{\"enum\":[\"good\",\"bad\",\"stale\",\"unknown\"]},\"value_text\":{\"type\":" \
    "[\"string\",\"null\"],\"description\":\"the name of the value, from the tag map\"},"       \
    "\"raw\":{\"type\":[\"integer\",\"null\"],\"description\":\"the register's own value "      \
    "(scaled values and timers)\"}"
#define ENTRY_REQUIRED "\"required\":[\"register\",\"parameter\",\"value\",\"unit\",\"quality\"]"
#define ENTRY "{\"type\":\"object\"," ENTRY_REQUIRED ",\"properties\":{" ENTRY_PROPS "}}"
#define TIMER                                                                                \
    "{\"type\":\"object\"," ENTRY_REQUIRED ",\"properties\":{" ENTRY_PROPS ",\"seconds\":"     \
    NUMN ",\"active\":{\"type\":\"boolean\",\"description\":\"false at 65535 (not "           \
    "running)\"},\"expected_start\":{\"type\":[\"integer\",\"null\"],\"description\":\"the "     \
    "specification's start value, tenths of a second\"},\"expected_start_s\":" NUMN            \
    ",\"progress_percent\":{\"type\":[\"number\",\"null\"],\"description\":\"(start - "         \
    "current) / start x 100; 0 when not running, 100 at 0\"}}}"
#define OUTPUT                                                                               \
    "{\"type\":\"object\"," ENTRY_REQUIRED ",\"properties\":{" ENTRY_PROPS ",\"bit\":{\"type\":" \
    "[\"integer\",\"null\"],\"description\":\"the specification's bit position\"},\"on\":"     \
    BOOLN "}}"
#define ENTRIES(item)                                                                        \
    "{\"type\":\"object\",\"description\":\"entries by key (the parameter in snake_case)\","  \
    "\"additionalProperties\":" item "}"

#define E_MODE                                                                               \
    "{\"register\":1000,\"parameter\":\"System Mode\",\"value\":7,\"unit\":null,\"category\":" \
    "\"system\",\"quality\":\"good\",\"value_text\":\"DTS Running/Production\"}"
#define E_STATUS                                                                             \
    "{\"register\":1036,\"parameter\":\"System Status\",\"value\":0,\"unit\":null,"           \
    "\"category\":\"system\",\"quality\":\"good\",\"value_text\":\"Standby\"}"
#define E_CONTROL                                                                            \
    "{\"register\":71,\"parameter\":\"Control Command\",\"value\":0,\"unit\":null,"           \
    "\"category\":null,\"quality\":\"good\"}"
#define E_FEED                                                                               \
    "{\"register\":1003,\"parameter\":\"Feed Pressure\",\"value\":40,\"unit\":\"PSI\","       \
    "\"category\":\"pressure\",\"quality\":\"good\"}"
#define E_TEMP                                                                               \
    "{\"register\":1017,\"parameter\":\"Water Temperature\",\"value\":68.1,\"unit\":\"F\","   \
    "\"category\":\"temperature\",\"quality\":\"good\",\"raw\":681}"
#define E_FLOW                                                                               \
    "{\"register\":1121,\"parameter\":\"1st Pass Product Flowmeter\",\"value\":4.5,\"unit\":" \
    "\"GPM\",\"category\":\"flow\",\"quality\":\"good\",\"raw\":45}"
#define E_PRIME                                                                              \
    "{\"register\":128,\"parameter\":\"DTS Priming Timer\",\"value\":120.5,\"unit\":\"s\","   \
    "\"category\":\"dts_timer\",\"quality\":\"good\",\"raw\":1205,\"seconds\":120.5,"         \
    "\"active\":true,\"expected_start\":1800,\"expected_start_s\":180.0,"                     \
    "\"progress_percent\":33.1}"
#define E_FWF                                                                                \
    "{\"register\":136,\"parameter\":\"FWF Flush Timer\",\"value\":6553.5,\"unit\":\"s\","    \
    "\"category\":\"fwf_timer\",\"quality\":\"good\",\"raw\":65535,\"seconds\":6553.5,"       \
    "\"active\":false,\"expected_start\":600,\"expected_start_s\":60.0,"                      \
    "\"progress_percent\":0.0}"
#define E_PUMP                                                                               \
    "{\"register\":257,\"parameter\":\"Low Pressure Pump\",\"value\":1,\"unit\":null,"        \
    "\"category\":\"output\",\"quality\":\"good\",\"value_text\":\"On\",\"bit\":0,\"on\":true}"
#define E_RUNTIME                                                                            \
    "{\"register\":5014,\"pair_register\":5015,\"parameter\":\"Runtime Hours\",\"value\":"    \
    "1234.5,\"unit\":\"hours\",\"category\":\"runtime\",\"quality\":\"good\"}"
#define E_GALLONS                                                                            \
    "{\"register\":5024,\"pair_register\":5025,\"parameter\":\"Single-Pass Total Gallons\","  \
    "\"value\":18250.0,\"unit\":\"gallons\",\"category\":\"water_counters\",\"quality\":"     \
    "\"good\"}"
#define E_YEAR                                                                               \
    "{\"register\":516,\"parameter\":\"RTC Year\",\"value\":2026,\"unit\":null,\"category\":" \
    "\"rtc\",\"quality\":\"good\"}"

/* ---------------------------------------------------------------- answers */

#define MODE                                                                                 \
    "{\"type\":\"object\",\"description\":\"R1000 and its name (null: a value the "           \
    "specification does not name)\",\"properties\":{\"value\":" INTN ",\"name\":" STRN "}}"
#define MODE_EX "{\"value\":7,\"name\":\"DTS Running/Production\"}"
#define GROUPS                                                                               \
    "\"system\":" ENTRIES(ENTRY) ",\"sensors\":" ENTRIES(ENTRY) ",\"timers\":" ENTRIES(TIMER)   \
    ",\"outputs\":" ENTRIES(OUTPUT) ",\"runtime\":" ENTRIES(ENTRY) ",\"water_counters\":"       \
    ENTRIES(ENTRY) ",\"rtc\":" ENTRIES(ENTRY)
#define COUNT "\"count\":{\"type\":\"integer\",\"description\":\"the entries listed\"}"

#define STATUS_EX                                                                            \
    "{" STAMP_EX ",\"name\":\"Watermaker\",\"mode\":" MODE_EX ",\"system_status\":{"          \
    "\"value\":0,\"meaning\":\"Standby\"},\"host\":\"198.18.100.141\",\"port\":502,\"unit\":" \
    "1,\"connects\":1,\"api_version\":\"1.1\"}"

const gw_app_component wm_data_components[] = {
    {"WatermakerStatus",
     "{\"type\":\"object\",\"description\":\"the watermaker's connection and state; ts and "
     "age_ms are the last scan's\",\"properties\":{" STAMP ",\"name\":" STR ",\"mode\":" MODE
     ",\"system_status\":{\"type\":\"object\",\"description\":\"R1036: 0 Standby, 5 FWF, 7 "
     "Service Mode\",\"properties\":{\"value\":" INTN ",\"meaning\":" STRN "}},\"host\":" STR
     ",\"port\":" INT ",\"unit\":" INT ",\"connects\":{\"type\":\"integer\",\"description\":"
     "\"successful connects so far\"},\"api_version\":" STR ",\"error\":{\"type\":\"string\","
     "\"description\":\"why it is not connected\"}},\"example\":" STATUS_EX "}"},
    {"MachineStatus",
     "{\"description\":\"the status of the machine: a watermaker's (WatermakerStatus), a "
     "ring-stiffness rig's (RigStatus)\",\"oneOf\":[{\"$ref\":\"#/components/schemas/"
     "WatermakerStatus\"},{\"$ref\":\"#/components/schemas/RigStatus\"}],\"example\":"
     STATUS_EX "}"},
    {"WatermakerAll",
     "{\"type\":\"object\",\"description\":\"every value, in the specification's groups\","
     "\"properties\":{" STAMP ",\"mode\":" MODE "," GROUPS "},\"example\":{" STAMP_EX
     ",\"mode\":" MODE_EX ",\"system\":{\"control_command\":" E_CONTROL ",\"system_mode\":"
     E_MODE ",\"system_status\":" E_STATUS "},\"sensors\":{\"system_mode\":" E_MODE
     ",\"feed_pressure\":" E_FEED ",\"water_temperature\":" E_TEMP "},\"timers\":{"
     "\"dts_priming_timer\":" E_PRIME "},\"outputs\":{\"low_pressure_pump\":" E_PUMP "},"
     "\"runtime\":{\"runtime_hours\":" E_RUNTIME "},\"water_counters\":{"
     "\"single_pass_total_gallons\":" E_GALLONS "},\"rtc\":{\"rtc_year\":" E_YEAR "}}}"},
    {"WatermakerSelect",
     "{\"type\":\"object\",\"description\":\"the groups asked for (as in WatermakerAll) and "
     "the keys asked for (values)\",\"properties\":{" STAMP "," GROUPS ",\"values\":"
     ENTRIES(ENTRY) "},\"example\":{" STAMP_EX ",\"timers\":{\"dts_priming_timer\":" E_PRIME
     "},\"values\":{\"feed_pressure\":" E_FEED ",\"system_mode\":" E_MODE "}}}"},
    {"WatermakerErrors",
     "{\"type\":\"object\",\"description\":\"the last 10 errors, newest first, as the DTS "
     "workflow keeps them: a DTS step or a write/register that failed, and why\",\"properties\""
     ":{\"machine\":" STR ",\"count\":" INT ",\"errors\":{\"type\":\"array\",\"maxItems\":10,"
     "\"items\":{\"type\":\"object\",\"properties\":{\"timestamp\":" STR ",\"what\":" STR
     ",\"error\":" STR "}}}},\"example\":{\"machine\":\"watermaker\",\"count\":1,\"errors\":[{"
     "\"timestamp\":\"2026-12-07T21:18:58.108Z\",\"what\":\"write R1000 (System Mode) = 8\","
     "\"error\":\"the PLC is disconnected or busy: nothing was written (HTTP 503)\"}]}}"},
    {"WatermakerConfig",
     "{\"type\":\"object\",\"description\":\"how the gateway reaches the watermaker, what it "
     "reads, and the endpoints that answer for it\",\"properties\":{\"api_version\":" STR
     ",\"machine\":" STR ",\"name\":" STR ",\"host\":" STR ",\"port\":" INT ",\"unit\":" INT
     ",\"timeout_ms\":" INT ",\"simulated\":" BOOL ",\"default\":{\"type\":\"boolean\","
     "\"description\":\"the default machine: the /api/... paths are its\"},\"scan_groups\":{"
     "\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"name\":" STR
     ",\"interval_ms\":" INT ",\"registers\":" INT "}}},\"registers\":{\"type\":\"integer\","
     "\"description\":\"tags in the map\"},\"register_words\":{\"type\":\"integer\","
     "\"description\":\"16-bit registers they cover\"},\"writable_registers\":{\"type\":"
     "\"array\",\"items\":" INT "},\"keys\":{\"type\":\"object\",\"additionalProperties\":{"
     "\"type\":\"object\",\"properties\":{\"parameter\":" STR ",\"register\":" INTN
     ",\"groups\":{\"type\":\"array\",\"items\":" STR "}}}},\"groups\":{\"type\":\"array\","
     "\"items\":" STR "},\"sensor_categories\":{\"type\":\"array\",\"items\":" STR "},"
     "\"endpoints\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
     "\"method\":" STR ",\"path\":" STR ",\"role\":" STR ",\"summary\":" STR "}}}},"
     "\"example\":{\"api_version\":\"1.1\",\"machine\":\"watermaker\",\"name\":\"Watermaker\","
     "\"host\":\"198.18.100.141\",\"port\":502,\"unit\":1,\"timeout_ms\":2000,\"simulated\":"
     "false,\"default\":true,\"scan_groups\":[{\"name\":\"status\",\"interval_ms\":500,"
     "\"registers\":19},{\"name\":\"slow\",\"interval_ms\":5000,\"registers\":13}],"
     "\"registers\":40,\"register_words\":47,\"writable_registers\":[67,71,1000],\"keys\":{"
     "\"feed_pressure\":{\"parameter\":\"Feed Pressure\",\"register\":1003,\"groups\":["
     "\"sensors\"]}},\"groups\":[\"system\",\"sensors\",\"timers\",\"outputs\",\"runtime\","
     "\"water_counters\",\"rtc\"],\"sensor_categories\":[\"system\",\"pressure\","
     "\"temperature\",\"flow\",\"quality\"],\"endpoints\":[{\"method\":\"GET\",\"path\":"
     "\"/api/machines/watermaker/sensors\",\"role\":\"viewer\",\"summary\":\"Every sensor "
     "(categories system, pressure, temperature, flow, quality)\"}]}}"},
    {"WatermakerSensors",
     "{\"type\":\"object\",\"properties\":{" STAMP ",\"sensors\":" ENTRIES(ENTRY) "," COUNT
     ",\"category\":{\"type\":\"string\",\"description\":\"the category asked for\"}},"
     "\"example\":{" STAMP_EX ",\"sensors\":{\"feed_pressure\":" E_FEED ",\"water_temperature\""
     ":" E_TEMP ",\"1st_pass_product_flowmeter\":" E_FLOW "},\"count\":3}}"},
    {"WatermakerTimers",
     "{\"type\":\"object\",\"properties\":{" STAMP ",\"timers\":" ENTRIES(TIMER) "," COUNT
     ",\"category\":{\"enum\":[\"dts_timer\",\"fwf_timer\"],\"description\":\"timers/dts, "
     "timers/fwf\"}},\"example\":{" STAMP_EX ",\"timers\":{\"dts_priming_timer\":" E_PRIME
     ",\"fwf_flush_timer\":" E_FWF "},\"count\":2}}"},
    {"WatermakerRtc",
     "{\"type\":\"object\",\"properties\":{" STAMP ",\"rtc\":" ENTRIES(ENTRY) ",\"date\":{"
     "\"type\":[\"string\",\"null\"],\"format\":\"date\",\"description\":\"the RTC's date "
     "when year, month and day are valid\"},\"datetime\":{\"type\":[\"string\",\"null\"],"
     "\"description\":\"the PLC's local time, when the map has an hour register (RTC Hours; "
     "the specification's RTC has none)\"},\"valid\":" BOOL "},\"example\":{" STAMP_EX
     ",\"rtc\":{\"rtc_year\":" E_YEAR "},\"date\":\"2026-12-07\",\"datetime\":null,\"valid\":"
     "true}}"},
    {"WatermakerOutputs",
     "{\"type\":\"object\",\"properties\":{" STAMP ",\"outputs\":" ENTRIES(OUTPUT) "," COUNT
     "},\"example\":{" STAMP_EX ",\"outputs\":{\"low_pressure_pump\":" E_PUMP "},\"count\":1}}"},
    {"WatermakerRuntime",
     "{\"type\":\"object\",\"properties\":{" STAMP ",\"runtime\":" ENTRIES(ENTRY) "," COUNT
     "},\"example\":{" STAMP_EX ",\"runtime\":{\"runtime_hours\":" E_RUNTIME "},\"count\":1}}"},
    {"WatermakerWaterCounters",
     "{\"type\":\"object\",\"properties\":{" STAMP ",\"water_counters\":" ENTRIES(ENTRY) ","
     COUNT "},\"example\":{" STAMP_EX ",\"water_counters\":{\"single_pass_total_gallons\":"
     E_GALLONS "},\"count\":1}}"},
};
const size_t wm_data_ncomponents = sizeof(wm_data_components) / sizeof(wm_data_components[0]);

/* ---------------------------------------------------------------- routes */

#define Q(name, desc)                                                                        \
    "{\"name\":\"" name "\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":"       \
    "\"string\"},\"description\":\"" desc "\"}"
#define SELECT_QUERY                                                                         \
    "[" Q("groups", "comma-separated: " GROUP_LIST) ","                                      \
    Q("keys", "comma-separated tag parameters (Feed Pressure) or their snake_case keys "     \
      "(feed_pressure); GET config lists them") "]"

#define WRITE_SCHEMA                                                                         \
    "{\"type\":\"object\",\"required\":[\"register\",\"value\"],\"additionalProperties\":"    \
    "false,\"properties\":{\"register\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":"     \
    "65535,\"description\":\"a holding register of the tag map that is writable (1000 for "   \
    "R1000; GET config lists writable_registers)\"},\"value\":{\"type\":\"integer\","         \
    "\"minimum\":0,\"maximum\":65535,\"description\":\"the register's raw value\"}},"         \
    "\"example\":{\"register\":1000,\"value\":2}}"

/* Each data route under /api/machines/{id}/ and, for the default
 * machine, at the specification's own path /api/... */
#define WM(method, path, role, summary, answer, fn, body, errors, query)                     \
    {method, "/api/machines/{id}/" path, role, summary, answer, fn, body,                    \
     (errors) | GW_APP_E_MACHINE, query},                                                    \
    {method, "/api/" path, role, summary " (the default machine)", answer, fn, body,         \
     (errors) | GW_APP_E_MACHINE, query}

const gw_app_route wm_data_routes[] = {
    WM("GET", "status", GW_ROLE_VIEWER, "The watermaker's status: connection, mode (R1000) "
       "with its name, system status (R1036) with its meaning", "MachineStatus",
       wm__data_status, NULL, 0, NULL),
    WM("GET", "all", GW_ROLE_VIEWER, "Every value of the watermaker, grouped as the "
       "specification groups them", "WatermakerAll", wm__data_all, NULL, 0, NULL),
    WM("GET", "select", GW_ROLE_VIEWER, "Only the groups and values asked for "
       "(?groups=sensors,timers&keys=feed_pressure); an unknown one is 422",
       "WatermakerSelect", wm__data_select, NULL, GW_APP_E_INVALID, SELECT_QUERY),
    WM("GET", "errors", GW_ROLE_VIEWER, "The last 10 errors (DTS sequences, failed writes)",
       "WatermakerErrors", wm__data_errors, NULL, 0, NULL),
    WM("GET", "config", GW_ROLE_VIEWER, "The API's configuration for the watermaker (host, "
       "unit, scan groups, registers, keys) and its endpoints", "WatermakerConfig", wm__data_config,
       NULL, 0, NULL),
    WM("POST", "write/register", GW_ROLE_OPERATOR, "Write one holding register {register, "
       "value}: a writable register of the tag map, a raw value 0..65535; answered after the "
       "PLC confirmed it", "Written", wm__data_write_register, WRITE_SCHEMA, GW_APP_E_WRITE, NULL),
    WM("GET", "sensors", GW_ROLE_VIEWER, "Every sensor (categories system, pressure, "
       "temperature, flow, quality)", "WatermakerSensors", wm__data_group, NULL, 0, NULL),
    WM("GET", "sensors/category/{category}", GW_ROLE_VIEWER, "The sensors of one category: "
       CATEGORY_LIST " (another is 404)", "WatermakerSensors", wm__data_sensors_category, NULL,
       GW_APP_E_NOT_FOUND, NULL),
    WM("GET", "timers", GW_ROLE_VIEWER, "Every timer: raw value, seconds, active, expected "
       "start and progress", "WatermakerTimers", wm__data_group, NULL, 0, NULL),
    WM("GET", "timers/dts", GW_ROLE_VIEWER, "The DTS timers", "WatermakerTimers", wm__data_group,
       NULL, 0, NULL),
    WM("GET", "timers/fwf", GW_ROLE_VIEWER, "The fresh water flush timer", "WatermakerTimers",
       wm__data_group, NULL, 0, NULL),
    WM("GET", "rtc", GW_ROLE_VIEWER, "The PLC's real-time clock, with its date when valid",
       "WatermakerRtc", wm__data_rtc, NULL, 0, NULL),
    WM("GET", "outputs", GW_ROLE_VIEWER, "Every output with its register, bit and state",
       "WatermakerOutputs", wm__data_group, NULL, 0, NULL),
    WM("GET", "outputs/active", GW_ROLE_VIEWER, "The outputs that are on", "WatermakerOutputs",
       wm__data_group, NULL, 0, NULL),
    WM("GET", "runtime", GW_ROLE_VIEWER, "Runtime hours (a 32-bit float, R5014/R5015)",
       "WatermakerRuntime", wm__data_group, NULL, 0, NULL),
    WM("GET", "water_counters", GW_ROLE_VIEWER, "The water production counters, gallons "
       "(32-bit floats)", "WatermakerWaterCounters", wm__data_group, NULL, 0, NULL),
};
const size_t wm_data_nroutes = sizeof(wm_data_routes) / sizeof(wm_data_routes[0]);
