-- One database per service (run once by the postgres image on an empty data volume).
CREATE DATABASE gongdan_gateway;
CREATE DATABASE gongdan_intake;
CREATE DATABASE gongdan_dispatch;
CREATE DATABASE gongdan_worklog;
CREATE DATABASE gongdan_sla;
CREATE DATABASE gongdan_notify;
CREATE DATABASE gongdan_kb;
CREATE DATABASE gongdan_channels;
CREATE DATABASE gongdan_exports;
