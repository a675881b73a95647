#!/usr/bin/env node
// s7_cpu.js PLCGW SOURCE_DIR - (being written)
'use strict';
console.log('ok - placeholder');
