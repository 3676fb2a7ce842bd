// Regenerate schemas/kusto_functions.json: the names of Kusto's built-in scalar functions,
// aggregates and plugins, read from the official language service (facts only).
// Set-up as in ../shared/tools/kusto-oracle/README.md, then:
//   KUSTO_LS=~/.cache/kusto-oracle/node_modules/@kusto/language-service-next node scripts/build_function_catalog.js
global.Bridge = require(process.env.KUSTO_LS + '/bridge.js');
require(process.env.KUSTO_LS + '/Kusto.Language.Bridge.js');
const K = global.Kusto.Language;
const names = (list) => {
  const out = new Set();
  const count = list.Count !== undefined ? list.Count : list.length;
  for (let i = 0; i < count; i++) out.add((list.getItem ? list.getItem(i) : list[i]).Name);
  return [...out].sort();
};
const catalog = {
  source: '@kusto/language-service-next (Kusto.Language): Functions.All, Aggregates.All, PlugIns.All',
  scalar: names(K.Functions.All),
  aggregate: names(K.Aggregates.All),
  plugin: names(K.PlugIns.All),
};
const path = require('path').join(__dirname, '..', 'schemas', 'kusto_functions.json');
require('fs').writeFileSync(path, JSON.stringify(catalog, null, 1) + '\n');
console.log(path, catalog.scalar.length, catalog.aggregate.length, catalog.plugin.length);
