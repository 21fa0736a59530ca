import { describeStoreContract } from './contract/store-contract.js';
import { createTestDatabase } from '../helpers/harness.js';

describeStoreContract('sqlite', () => createTestDatabase('sqlite'));
