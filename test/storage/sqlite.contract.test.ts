import { describeStoreContract } from './contract/store-contract.js';
import { createTestDatabase } from '../helpers/test-database.js';

describeStoreContract('sqlite', () => createTestDatabase('sqlite'));
