/** `npm run schema:subgraph`: prints the subgraph SDL, as `rover subgraph publish --schema -` takes it. */
import { printSubgraphSchema } from '@apollo/subgraph';

import { createSubgraphSchema } from '../schema';

process.stdout.write(`${printSubgraphSchema(createSubgraphSchema())}\n`);
